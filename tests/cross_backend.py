"""Every public layer, optimizer, schedule and loss computed on this process's Keras backend.

``python tests/cross_backend.py OUT.npz [REFERENCE.npz]`` saves, for each battery case, named
arrays: a layer's outputs, loss, gradients and weights after a few SGD steps; an optimizer's
variables and slots after a few updates of fixed gradients; a schedule's values; a loss's values.
With a ``REFERENCE`` (saved by another backend) each layer starts from the reference's initial
weights, so both backends compute from the same numbers. ``tests/test_cross_backend.py`` runs it
under ``KERAS_BACKEND=jax`` against the TensorFlow process's arrays and compares them all.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # noqa: E402
import numpy as np  # noqa: E402
from backend import gradients  # noqa: E402

import mlcourse  # noqa: E402

from battery import LayerCase, ObjectCase, OptimizerCase, ScheduleCase  # noqa: E402
from battery_cases import all_cases  # noqa: E402

STEPS = 3  # SGD steps on a layer
UPDATES = 5  # optimizer updates
LEARNING_RATE = 0.05


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _unlisted(items):
    return items if len(items) > 1 else items[0]


def _floats(outputs):
    return [o for o in _as_list(outputs) if "float" in keras.backend.standardize_dtype(o.dtype)]


def layer_arrays(case, start=None):
    """Outputs, then ``STEPS`` SGD steps on the mean square of the outputs."""
    keras.utils.set_random_seed(0)
    layer, x = case.make(), _unlisted(_as_list(case.inputs()))
    layer(x, **case.call_kwargs)  # builds
    if start is None:  # off the initial values, which can sit where a gradient has a kink
        rng = np.random.default_rng(1)
        start = [
            w * (1 + 0.05 * rng.normal(size=w.shape)) + 0.01 * rng.normal(size=w.shape)
            for w in layer.get_weights()
        ]
    layer.set_weights(
        [np.asarray(w, dtype=v.dtype) for w, v in zip(start, layer.weights, strict=True)]
    )
    arrays = {"weights/start": layer.get_weights()}
    arrays["outputs"] = [np.asarray(o) for o in _floats(layer(x, **case.call_kwargs))]
    variables = layer.trainable_variables
    if not variables:
        return arrays

    def loss():
        outputs = _floats(layer(x, **case.call_kwargs))
        return sum(keras.ops.mean(keras.ops.square(keras.ops.cast(o, "float32"))) for o in outputs)

    losses = []
    for _ in range(STEPS):
        value, grads = gradients(loss, variables, state=layer.non_trainable_variables)
        losses.append(value)
        for variable, grad in zip(variables, grads, strict=True):
            variable.assign(variable - LEARNING_RATE * grad)
    arrays["loss"], arrays["gradients"] = [np.array(losses)], grads
    arrays["weights/trained"] = [np.asarray(v) for v in variables]
    return arrays


def optimizer_arrays(case):
    """Variables and slots after ``UPDATES`` updates with fixed gradients."""
    rng = np.random.default_rng(0)
    optimizer = case.make()
    variables = [keras.Variable(rng.normal(size=s).astype("float32")) for s in ((4, 3), (3,))]
    for _ in range(UPDATES):
        grads = [
            keras.ops.convert_to_tensor(rng.normal(size=v.shape), "float32") for v in variables
        ]
        optimizer.apply(grads, variables)
    return {
        "variables": [np.asarray(v) for v in variables],
        "slots": [np.asarray(v) for v in optimizer.variables],
    }


def schedule_arrays(case):
    schedule = case.make()
    return {"values": [np.array([float(schedule(step)) for step in range(0, 300, 7)])]}


def object_arrays(case):
    """A loss on one-hot labels and softmax probabilities (valid with and without logits)."""
    rng = np.random.default_rng(0)
    labels = np.eye(5, dtype="float32")[rng.integers(0, 5, 8)]
    logits = rng.normal(size=(8, 5)).astype("float32")
    probabilities = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return {"values": [np.asarray(case.make()(labels, probabilities))]}


def compute(reference=None):
    """``{name: array}`` for every case of the battery."""
    mlcourse.load_all()
    arrays = {}
    for case in all_cases():
        keras.backend.clear_session(free_memory=False)
        if isinstance(case, LayerCase):
            start = None
            if reference is not None:
                count = len([k for k in reference if k.startswith(f"{case.name}/weights/start/")])
                start = [reference[f"{case.name}/weights/start/{i}"] for i in range(count)]
            found = layer_arrays(case, start)
        elif isinstance(case, OptimizerCase):
            found = optimizer_arrays(case)
        elif isinstance(case, ScheduleCase):
            found = schedule_arrays(case)
        elif isinstance(case, ObjectCase):
            found = object_arrays(case)
        for kind, values in found.items():
            for i, value in enumerate(values):
                arrays[f"{case.name}/{kind}/{i}"] = np.asarray(value)
    return arrays


if __name__ == "__main__":
    out, reference = sys.argv[1], (np.load(sys.argv[2]) if len(sys.argv) > 2 else None)
    np.savez(out, backend=np.array(keras.backend.backend()), **compute(reference))
