"""SigmoidSum against its Keras twins and the lecture's formulas."""

import keras
import numpy as np
import pytest

from mlcourse.layers import SigmoidSum
from mlcourse.layers.sigmoid_sum import hard_sigmoid


@pytest.mark.backends
def test_hard_sigmoid_is_two_relus_and_a_rescaled_keras_hard_sigmoid():
    z = np.linspace(-8, 8, 401).astype("float32")
    ours = keras.ops.convert_to_numpy(hard_sigmoid(z))
    np.testing.assert_allclose(ours, np.clip(z, 0, 1), atol=1e-7)
    keras_version = keras.ops.convert_to_numpy(keras.activations.hard_sigmoid(z))
    np.testing.assert_allclose(
        keras_version, keras.ops.convert_to_numpy(hard_sigmoid(z / 6 + 0.5)), atol=1e-6
    )


@pytest.mark.backends
@pytest.mark.parametrize("unit, activation", [("sigmoid", "sigmoid"), ("relu", "relu")])
def test_equals_dense_activation_dense(unit, activation):
    x = np.random.default_rng(1).normal(size=(16, 5)).astype("float32")
    ours = keras.Sequential([keras.Input((5,)), SigmoidSum(6, unit=unit)])
    twin = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(6, activation=activation), keras.layers.Dense(1)]
    )
    ours.layers[0].set_weights(twin.get_weights())
    np.testing.assert_allclose(ours.predict(x, verbose=0), twin.predict(x, verbose=0), atol=1e-6)


def test_formula_by_hand():
    layer = SigmoidSum(2, unit="hard_sigmoid")
    layer.build((None, 1))
    layer.set_weights(
        [np.array([[1.0, 2.0]]), np.array([0.0, -1.0]), np.array([[3.0], [-1.0]]), np.array([0.5])]
    )
    x = np.array([[0.25], [0.75], [2.0]], "float32")
    expected = 0.5 + 3 * np.clip(x, 0, 1) - np.clip(2 * x - 1, 0, 1)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), expected, atol=1e-6)
