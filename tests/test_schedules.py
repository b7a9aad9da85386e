"""mlcourse.schedules: the same numbers as Keras's built-in schedules when configured alike.

Serialisation, reload inside an optimizer and bad arguments are in the shared battery
(tests/battery_cases/schedules.py).
"""

import keras
import numpy as np
import pytest

from mlcourse.schedules import Decay, InverseSquareRoot, LinearWarmup, WarmupThenDecay

K = keras.optimizers.schedules
STEPS = np.arange(0, 140)


def _values(schedule, steps=STEPS):
    return np.array([float(schedule(int(s))) for s in steps])


TWINS = {
    "decay-linear": (Decay(0.1, 100, 0.01, "linear"), K.PolynomialDecay(0.1, 100, 0.01, power=1.0)),
    "decay-cosine": (Decay(0.1, 100, 0.01, "cosine"), K.CosineDecay(0.1, 100, alpha=0.1)),
    "warmup-constant": (
        LinearWarmup(0.1, 20, initial_learning_rate=0.01),
        K.CosineDecay(0.01, 1, alpha=1.0, warmup_target=0.1, warmup_steps=20),
    ),
    "warmup-then-cosine": (
        WarmupThenDecay(0.1, warmup_steps=20, decay_steps=100, final_learning_rate=0.005),
        K.CosineDecay(0.0, 100, alpha=0.05, warmup_target=0.1, warmup_steps=20),
    ),
}


@pytest.mark.backends
@pytest.mark.parametrize("name", sorted(TWINS))
def test_same_values_as_keras_twin(name):
    ours, theirs = TWINS[name]
    np.testing.assert_allclose(_values(ours), _values(theirs), rtol=1e-6, atol=1e-9)


@pytest.mark.backends
def test_exponential_decay_matches_keras_until_decay_steps_then_stays():
    ours = Decay(0.1, 100, 0.001, "exponential")
    theirs = K.ExponentialDecay(0.1, 100, decay_rate=0.01)
    np.testing.assert_allclose(_values(ours, STEPS[:101]), _values(theirs, STEPS[:101]), rtol=1e-5)
    np.testing.assert_allclose(_values(ours, [100, 120, 1000]), 0.001, rtol=1e-5)


def test_warmup_wraps_a_schedule_and_starts_it_after_warmup():
    inner = Decay(0.2, 50, 0.0, "linear")
    schedule = LinearWarmup(inner, warmup_steps=10)
    values = _values(schedule, range(0, 70))
    np.testing.assert_allclose(values[:11], np.linspace(0.0, 0.2, 11), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(values[10:], _values(inner, range(0, 60)), rtol=1e-6)


def test_warmup_then_decay_is_warmup_around_decay():
    flat = WarmupThenDecay(0.3, 7, 30, 0.03, "linear", initial_learning_rate=0.01)
    nested = LinearWarmup(Decay(0.3, 30, 0.03, "linear"), 7, initial_learning_rate=0.01)
    np.testing.assert_allclose(_values(flat), _values(nested), rtol=1e-7)


def test_zero_warmup_steps_is_the_wrapped_schedule():
    inner = Decay(0.1, 40, shape="cosine")
    np.testing.assert_allclose(_values(LinearWarmup(inner, 0)), _values(inner), rtol=1e-7)


def test_inverse_square_root_is_the_transformer_formula():
    units, warmup = 64, 20
    values = _values(InverseSquareRoot(units, warmup))
    s = STEPS + 1.0
    expected = units**-0.5 * np.minimum(s**-0.5, s * warmup**-1.5)
    np.testing.assert_allclose(values, expected, rtol=1e-6)
    assert values.argmax() == warmup - 1  # the peak is at s = warmup
    assert values[0] > 0.0


def test_schedule_inside_a_keras_optimizer_sets_its_learning_rate():
    optimizer = keras.optimizers.SGD(WarmupThenDecay(0.1, warmup_steps=4, decay_steps=10))
    variable = keras.Variable(np.zeros(2, "float32"))
    for _ in range(2):
        optimizer.apply([np.ones(2, "float32")], [variable])
    assert float(optimizer.learning_rate) == pytest.approx(0.05)  # iteration 2 of a 4-step warm-up
    np.testing.assert_allclose(variable.numpy(), -(0.0 + 0.025))  # steps at η⁰ = 0 and η¹ = 0.025
