"""Regressors of lecture 2, from ``y = b + w·x1`` to deep ReLU networks (ML2021 L02).

Each builder returns an uncompiled ``keras.Sequential`` taking ``k`` features (the previous ``k``
days).
"""

import math

import keras

from mlcourse.layers import SigmoidSum

__all__ = [
    "average_of",
    "linear_regressor",
    "relu_parameter_count",
    "relu_regressor",
    "sigmoid_sum_regressor",
    "updates_per_epoch",
    "units_for_budget",
]


def linear_regressor(k, name=None):
    """``y = b + Σ_j w_j x_j`` (with ``k = 1``, the lecture's first model ``y = b + w·x1``)."""
    return keras.Sequential([keras.Input((k,)), keras.layers.Dense(1)], name=name or f"linear_k{k}")


def sigmoid_sum_regressor(k, units, unit="sigmoid", name=None):
    """``y = b + Σ_i c_i·unit(b_i + Σ_j w_ij x_j)`` (one ``SigmoidSum`` layer)."""
    return keras.Sequential(
        [keras.Input((k,)), SigmoidSum(units, unit=unit)], name=name or f"{unit}_sum_{units}"
    )


def relu_regressor(k, depth, units, name=None):
    """``depth`` hidden ReLU layers of ``units`` neurons and a linear output (the lecture's deep
    network).
    """
    layers = [keras.Input((k,))] + [
        keras.layers.Dense(units, activation="relu") for _ in range(depth)
    ]
    return keras.Sequential(layers + [keras.layers.Dense(1)], name=name or f"relu_{depth}x{units}")


def relu_parameter_count(k, depth, units):
    """Parameters of ``relu_regressor(k, depth, units)``."""
    return (k + 1) * units + (depth - 1) * (units + 1) * units + units + 1


def units_for_budget(k, depth, budget):
    """The units whose ``relu_regressor(k, depth, units)`` has the parameter count closest to
    ``budget``.

    Used for the lecture's "deep vs fat" comparison (slide 57): same number of parameters, spent on
    one wide layer or on several narrow ones.
    """
    upper = max(1, budget)
    return min(
        range(1, upper + 1), key=lambda w: (abs(relu_parameter_count(k, depth, w) - budget), w)
    )


def average_of(models, name=None):
    """One model whose prediction is the mean of ``models``' predictions (a seed ensemble).

    Trained from different random initialisations, the same configuration lands in different
    minima (ML2021 L02-L03: the loss is not convex in the parameters), and on a short series its
    validation error varies from seed to seed. Averaging the predictions helps twice: the mean
    absolute error of the average is at most the members' mean MAE on any days (``|.|`` is
    convex), and a configuration is chosen on validation for what it does, not for one lucky seed.

    Args:
        models: built Keras models with one input of the same shape and the same output shape.
        name: the model's name (default ``"average_of_<n>"``).

    Returns:
        A functional ``keras.Model`` sharing the members' weights (saving it saves them all).
    """
    models = list(models)
    if not models:
        raise ValueError("models must hold at least one model, got none")
    inputs = keras.Input(models[0].input_shape[1:])
    outputs = [model(inputs) for model in models]
    average = outputs[0] if len(outputs) == 1 else keras.layers.Average()(outputs)
    return keras.Model(inputs, average, name=name or f"average_of_{len(models)}")


def updates_per_epoch(examples, batch_size):
    """``ceil(N / B)``: one update per batch, every batch once an epoch (ML2021 L02, slide 44)."""
    return math.ceil(examples / batch_size)
