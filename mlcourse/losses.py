"""Classification losses written out: softmax, cross-entropy and MSE on probabilities.

ML2021 L07, "the loss function can also matter": a network maps ``x`` to real numbers ``y`` (the
logits), softmax turns them into a probability vector ``y'``, and the loss compares ``y'`` with the
one-hot label ``ŷ``. The lecture argues that cross-entropy trains better than the mean squared
error; ``tutorials/l07_classification_loss.py`` shows why on the loss surfaces.

The maths, one line each (``i`` runs over the classes)::

    softmax      y'_i = exp(y_i - max_j y_j) / Σ_k exp(y_k - max_j y_j)
    log-softmax  ln y'_i = (y_i - max_j y_j) - ln Σ_k exp(y_k - max_j y_j)
    cross-entropy e = -Σ_i ŷ_i ln y'_i
    MSE           e = (1/C) Σ_i (ŷ_i - y'_i)²

Near a confidently wrong answer (``y'_correct → 0``) the two behave very differently:

    ∂e_CE  / ∂y_i = y'_i - ŷ_i                                  (stays near ±1: a steep slope)
    ∂e_MSE / ∂y_i = (2/C) y'_i [(y'_i - ŷ_i) - Σ_k y'_k (y'_k - ŷ_k)]   (→ 0: a flat plateau)

The functions equal Keras's ``keras.ops.softmax``, ``keras.losses.categorical_crossentropy`` and
``keras.losses.mean_squared_error`` (applied to the softmax); ``tests/test_losses.py`` checks it.
"""

import keras
from keras import ops

from mlcourse.validation import check_axis, check_bool

__all__ = [
    "CrossEntropy",
    "ProbabilityMSE",
    "cross_entropy",
    "log_softmax",
    "probability_mse",
    "softmax",
]


def _check_axis(axis):
    return check_axis("axis", axis)


def softmax(logits, axis=-1):
    """``y'_i = exp(y_i - max y) / Σ_k exp(y_k - max y)``: logits to a probability vector.

    Subtracting the maximum changes nothing mathematically (numerator and denominator gain the same
    factor ``exp(-max y)``) but keeps ``exp`` from overflowing for large logits.
    """
    _check_axis(axis)
    shifted = logits - ops.max(logits, axis=axis, keepdims=True)
    exponentials = ops.exp(shifted)
    return exponentials / ops.sum(exponentials, axis=axis, keepdims=True)


def log_softmax(logits, axis=-1):
    """``ln y'_i = (y_i - max y) - ln Σ_k exp(y_k - max y)``, exact even where ``y'_i`` underflows
    to 0.
    """
    _check_axis(axis)
    shifted = logits - ops.max(logits, axis=axis, keepdims=True)
    return shifted - ops.log(ops.sum(ops.exp(shifted), axis=axis, keepdims=True))


def cross_entropy(y_true, y_pred, from_logits=False, axis=-1):
    """``e = -Σ_i ŷ_i ln y'_i`` for each sample.

    Args:
        y_true: one-hot (or soft) labels ``ŷ``, same shape as ``y_pred``.
        y_pred: probabilities ``y'``, or logits ``y`` when ``from_logits=True``.
        from_logits: whether ``y_pred`` holds logits. From logits the log-softmax is used (never
            ``ln 0``); from probabilities they are renormalised to sum to 1 and clipped to
            ``[ε, 1 - ε]`` with ``ε = keras.config.epsilon()``, as Keras does.
        axis: the class axis.

    Returns:
        The per-sample loss, ``y_pred``'s shape without ``axis``.
    """
    check_bool("from_logits", from_logits)
    _check_axis(axis)
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, y_pred.dtype)
    if from_logits:
        log_probabilities = log_softmax(y_pred, axis=axis)
    else:
        probabilities = y_pred / ops.sum(y_pred, axis=axis, keepdims=True)
        epsilon = keras.config.epsilon()
        log_probabilities = ops.log(ops.clip(probabilities, epsilon, 1.0 - epsilon))
    return -ops.sum(y_true * log_probabilities, axis=axis)


def probability_mse(y_true, y_pred, from_logits=True, axis=-1):
    """``e = (1/C) Σ_i (ŷ_i - y'_i)²``: the mean squared error between label and softmax output.

    Args:
        y_true: one-hot labels ``ŷ``, same shape as ``y_pred``.
        y_pred: logits ``y`` (``from_logits=True``, the default: softmax is applied here) or
            probabilities ``y'``.
        from_logits: whether ``y_pred`` holds logits.
        axis: the class axis (``C`` is its length).

    Returns:
        The per-sample loss, ``y_pred``'s shape without ``axis``.
    """
    check_bool("from_logits", from_logits)
    _check_axis(axis)
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, y_pred.dtype)
    probabilities = softmax(y_pred, axis=axis) if from_logits else y_pred
    return ops.mean(ops.square(y_true - probabilities), axis=axis)


class _ClassificationLoss(keras.losses.Loss):
    """Shared constructor, validation and config of the two losses below."""

    def __init__(self, from_logits, axis, reduction, name, dtype):
        check_bool("from_logits", from_logits)
        _check_axis(axis)
        allowed = ("sum", "sum_over_batch_size", "mean", "mean_with_sample_weight", "none", None)
        if reduction not in allowed:
            raise ValueError(f"reduction must be one of {allowed}, got {reduction!r}")
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = from_logits
        self.axis = axis

    def get_config(self):
        config = super().get_config()
        config.update({"from_logits": self.from_logits, "axis": self.axis})
        return config


@keras.saving.register_keras_serializable(package="mlcourse")
class CrossEntropy(_ClassificationLoss):
    """Cross-entropy between one-hot labels and the softmax of the network output.

    ``e = -Σ_i ŷ_i ln y'_i`` with ``y' = softmax(y)`` (ML2021 L07, classification loss). Equal to
    ``keras.losses.CategoricalCrossentropy`` configured alike.

    Args:
        from_logits: ``y_pred`` holds logits (``True``) or probabilities (``False``, the default,
            as in Keras).
        axis: the class axis.
        reduction: how per-sample losses are combined (Keras's choices, default
            ``"sum_over_batch_size"``).
        name: the loss name.
        dtype: the computation dtype (default: ``keras.config.floatx()``).

    Call arguments:
        y_true: one-hot labels, shape ``(batch, classes)``.
        y_pred: probabilities or logits, same shape.
        sample_weight: optional per-sample weights.

    Returns:
        The reduced loss (a scalar unless ``reduction="none"``).
    """

    def __init__(
        self,
        from_logits=False,
        axis=-1,
        reduction="sum_over_batch_size",
        name="cross_entropy",
        dtype=None,
    ):
        super().__init__(from_logits, axis, reduction, name, dtype)

    def call(self, y_true, y_pred):
        return cross_entropy(y_true, y_pred, from_logits=self.from_logits, axis=self.axis)


@keras.saving.register_keras_serializable(package="mlcourse")
class ProbabilityMSE(_ClassificationLoss):
    """Mean squared error between one-hot labels and the softmax of the network output.

    ``e = (1/C) Σ_i (ŷ_i - y'_i)²`` with ``y' = softmax(y)`` (ML2021 L07: the loss the lecture
    compares cross-entropy against). Equal to ``keras.losses.MeanSquaredError`` applied to
    ``keras.ops.softmax(y)``.

    Args:
        from_logits: ``y_pred`` holds logits (``True``, the default: softmax is applied inside the
            loss) or probabilities (``False``).
        axis: the class axis.
        reduction: how per-sample losses are combined (Keras's choices).
        name: the loss name.
        dtype: the computation dtype.

    Call arguments:
        y_true: one-hot labels, shape ``(batch, classes)``.
        y_pred: logits or probabilities, same shape.
        sample_weight: optional per-sample weights.

    Returns:
        The reduced loss (a scalar unless ``reduction="none"``).
    """

    def __init__(
        self,
        from_logits=True,
        axis=-1,
        reduction="sum_over_batch_size",
        name="probability_mse",
        dtype=None,
    ):
        super().__init__(from_logits, axis, reduction, name, dtype)

    def call(self, y_true, y_pred):
        return probability_mse(y_true, y_pred, from_logits=self.from_logits, axis=self.axis)
