"""mlcourse.optimizers: Keras twins give the same weights, the others follow their formulas.

Serialisation, mixed precision, reload-and-continue and bad arguments are in the shared battery
(tests/battery_cases/optimizers.py).
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from backend import gradients

from mlcourse import optimizers as O
from mlcourse.schedules import WarmupThenDecay

STEPS = 50


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(32, 3)).astype("float32")
    y = rng.normal(size=(32, 1)).astype("float32")
    weights = [
        rng.normal(size=(3, 5)).astype("float32"),
        rng.normal(size=(5,)).astype("float32"),
        rng.normal(size=(5, 1)).astype("float32"),
    ]
    return x, y, weights


def _loss(x, y, w1, b1, w2):
    hidden = keras.ops.tanh(keras.ops.add(keras.ops.matmul(x, w1), b1))
    return keras.ops.mean(keras.ops.square(keras.ops.matmul(hidden, w2) - y))


def _train(optimizer, steps=STEPS, seed=0):
    """Weights after ``steps`` full-batch steps of a small tanh network; also the gradients seen."""
    x, y, weights = _problem(seed)
    variables = [keras.Variable(w) for w in weights]
    seen = []
    for _ in range(steps):
        _, grads = gradients(lambda: _loss(x, y, *variables), variables)
        seen.append(grads)
        optimizer.apply(grads, variables)
    return [v.numpy() for v in variables], seen


TWINS = {
    "sgd": (lambda: O.GradientDescent(0.1), lambda: keras.optimizers.SGD(0.1)),
    "sgd-momentum": (
        lambda: O.Momentum(0.05, momentum=0.9),
        lambda: keras.optimizers.SGD(0.05, momentum=0.9),
    ),
    "adagrad": (lambda: O.Adagrad(0.1), lambda: keras.optimizers.Adagrad(0.1)),
    "rmsprop": (lambda: O.RMSProp(0.01, rho=0.8), lambda: keras.optimizers.RMSprop(0.01, rho=0.8)),
    "adam": (lambda: O.Adam(0.01, beta_1=0.8), lambda: keras.optimizers.Adam(0.01, beta_1=0.8)),
    "adam-schedule": (
        lambda: O.Adam(WarmupThenDecay(0.02, 10, 40)),
        lambda: keras.optimizers.Adam(WarmupThenDecay(0.02, 10, 40)),
    ),
}


@pytest.mark.backends
@pytest.mark.parametrize("name", sorted(TWINS))
def test_same_weights_as_keras_twin(name):
    ours, theirs = TWINS[name]
    start = _problem()[2]
    got, _ = _train(ours())
    want, _ = _train(theirs())
    assert any(np.abs(w - s).max() > 1e-2 for w, s in zip(want, start, strict=True)), (
        "the weights should have moved"
    )
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=0)


def test_ema_momentum_is_lecture_momentum_with_scaled_learning_rate():
    eta, beta = 0.4, 0.9
    got, _ = _train(O.EMAMomentum(eta, beta=beta))
    want, _ = _train(O.Momentum(eta * (1 - beta), momentum=beta))
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=0)
    same_eta, _ = _train(O.Momentum(eta, momentum=beta), steps=5)
    ema, _ = _train(O.EMAMomentum(eta, beta=beta), steps=5)
    assert not np.allclose(same_eta[0], ema[0], atol=1e-3), "same η must not give the same steps"


def _replay(update, seen, state=None):
    """Run a NumPy reference ``update(weights, grads, state, t) -> state`` on the recorded
    gradients.
    """
    weights = [w.astype("float64") for w in _problem()[2]]
    for t, grads in enumerate(seen):
        state = update(weights, [g.astype("float64") for g in grads], state, t)
    return weights


def _assert_replays(optimizer, update, atol=1e-5):
    got, seen = _train(optimizer)
    want = _replay(update, seen)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, atol=atol, rtol=0)


def test_normalized_gd_global_takes_steps_of_length_eta():
    eta = 0.05

    def update(w, g, state, t):
        norm = np.sqrt(sum(np.sum(gi**2) for gi in g))
        for wi, gi in zip(w, g, strict=True):
            wi -= eta * gi / norm

    _assert_replays(O.NormalizedGD(eta, norm="global"), update)


def test_normalized_gd_per_variable():
    eta = 0.05

    def update(w, g, state, t):
        for wi, gi in zip(w, g, strict=True):
            wi -= eta * gi / np.linalg.norm(gi)

    _assert_replays(O.NormalizedGD(eta, norm="per_variable"), update)


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_global_rmsprop_uses_one_sigma_from_the_squared_norm(reduction):
    eta, rho = 0.01, 0.9
    n = sum(w.size for w in _problem()[2]) if reduction == "mean" else 1

    def update(w, g, v, t):
        v = rho * (v or 0.0) + (1 - rho) * sum(np.sum(gi**2) for gi in g) / n
        for wi, gi in zip(w, g, strict=True):
            wi -= eta * gi / np.sqrt(v + 1e-7)
        return v

    _assert_replays(O.GlobalRMSProp(eta, rho=rho, reduction=reduction), update)


@pytest.mark.backends
def test_global_rmsprop_equals_rmsprop_for_one_scalar_weight():
    def run(optimizer):
        w = keras.Variable(np.array(3.0, "float32"))
        for _ in range(30):
            _, grads = gradients(lambda: keras.ops.square(w) * 0.5 + keras.ops.sin(w), [w])
            optimizer.apply(grads, [w])
        return float(w.numpy())

    assert run(O.GlobalRMSProp(0.1)) == pytest.approx(run(O.RMSProp(0.1)), abs=1e-6)


def test_rmsprop_lecture_start_sigma_is_first_gradient():
    eta, rho = 0.01, 0.9

    def update(w, g, v, t):
        v = [
            gi**2 if t == 0 else rho * vi + (1 - rho) * gi**2
            for gi, vi in zip(g, v or g, strict=True)
        ]
        for wi, gi, vi in zip(w, g, v, strict=True):
            wi -= eta * gi / np.sqrt(vi + 1e-7)
        return v

    _assert_replays(O.RMSProp(eta, rho=rho, sigma_init="first_gradient"), update)


def test_adagrad_lecture_root_mean_square():
    eta = 0.05

    def update(w, g, acc, t):
        acc = [a + gi**2 for a, gi in zip(acc or [0 * gi for gi in g], g, strict=True)]
        for wi, gi, a in zip(w, g, acc, strict=True):
            wi -= eta * gi / np.sqrt(a / (t + 1) + 1e-7)
        return acc

    _assert_replays(O.Adagrad(eta, initial_accumulator_value=0.0, average=True), update)


def test_adam_without_bias_correction():
    eta, b1, b2 = 0.01, 0.9, 0.999

    def update(w, g, state, t):
        m, v = state or ([0 * gi for gi in g], [0 * gi for gi in g])
        m = [b1 * mi + (1 - b1) * gi for mi, gi in zip(m, g, strict=True)]
        v = [b2 * vi + (1 - b2) * gi**2 for vi, gi in zip(v, g, strict=True)]
        for wi, mi, vi in zip(w, m, v, strict=True):
            wi -= eta * mi / (np.sqrt(vi) + 1e-7)
        return m, v

    _assert_replays(O.Adam(eta, bias_correction=False), update)


def test_global_state_inside_compiled_fit():
    """The global hook also runs inside model.fit's compiled train step (one σ for all
    variables).
    """
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = rng.normal(size=(64, 1)).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(1)])
    optimizer = O.GlobalRMSProp(0.01, rho=0.5)
    model.compile(optimizer=optimizer, loss="mse")
    with tf.GradientTape() as tape:
        loss = keras.ops.mean(keras.ops.square(model(x) - y))
    grads = tape.gradient(loss, model.trainable_variables)
    model.fit(x, y, batch_size=64, epochs=1, shuffle=False, verbose=0)
    squared_norm = sum(float(np.sum(g.numpy() ** 2)) for g in grads)
    assert float(optimizer.velocity.numpy()) == pytest.approx(0.5 * squared_norm, rel=1e-4)


def test_integer_learning_rate_is_accepted_as_float():
    assert O.GradientDescent(1).get_config()["learning_rate"] == 1.0


MIRRORED = r"""
import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras, numpy as np
from mlcourse import optimizers as O
# each replica's gradient
parts = [np.array([3.0, -1.0], "float32"), np.array([1.0, 2.0], "float32")]
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with strategy.scope():
    w = keras.Variable(np.zeros(2, "float32"))
    optimizer = O.GlobalRMSProp(0.1, rho=0.5)
    optimizer.build([w])
grads = strategy.experimental_distribute_values_from_function(
    lambda ctx: parts[ctx.replica_id_in_sync_group]
)
tf.function(lambda g: strategy.run(lambda g: optimizer.apply([g], [w]), args=(g,)))(grads)
print("RESULT", float(optimizer.velocity.numpy()), *w.numpy().tolist())
"""


@pytest.mark.slow
def test_global_sigma_sees_the_gradient_summed_over_replicas():
    """Two replicas: σ² comes from ‖g₀ + g₁‖², the whole batch's gradient, not from one replica's
    part.
    """
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", MIRRORED], capture_output=True, text=True, timeout=300, check=True
    )
    (line,) = [line for line in out.stdout.splitlines() if line.startswith("RESULT")]
    velocity, *weights = map(float, line.split()[1:])
    total = np.array([4.0, 1.0])  # g₀ + g₁
    assert velocity == pytest.approx(0.5 * np.sum(total**2), rel=1e-6)  # (1 − ρ)‖g‖², from σ² = 0
    np.testing.assert_allclose(weights, -0.1 * total / np.sqrt(velocity + 1e-7), rtol=1e-5)


def test_the_private_keras_methods_course_optimizers_use_are_unchanged():
    """CourseOptimizer overrides ``_backend_update_step`` and calls ``_get_variable_index``: if a
    Keras release renames or reshapes them, this fails first (setup.cfg pins the minor version)."""
    import inspect

    from mlcourse.optimizers.base import TESTED_KERAS

    assert keras.__version__.startswith(TESTED_KERAS + "."), (
        f"Keras {keras.__version__} is not the tested {TESTED_KERAS}.x: check CourseOptimizer's "
        "private hooks, then update TESTED_KERAS and the pin in setup.cfg"
    )
    expected = {
        "_backend_update_step": ["self", "grads", "trainable_variables", "learning_rate"],
        "_get_variable_index": ["self", "variable"],
    }
    for name, parameters in expected.items():
        method = getattr(keras.optimizers.Optimizer, name, None)
        assert method is not None, f"keras.optimizers.Optimizer.{name} is gone"
        assert list(inspect.signature(method).parameters) == parameters, name
