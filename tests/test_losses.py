"""mlcourse.losses equals Keras's softmax / cross-entropy / MSE, and behaves as lecture 7 says."""

import keras
import numpy as np
import pytest

from mlcourse import losses


def _batch(seed=0, batch=16, classes=5, scale=4.0):
    rng = np.random.default_rng(seed)
    logits = (scale * rng.normal(size=(batch, classes))).astype("float32")
    labels = keras.utils.to_categorical(rng.integers(0, classes, size=batch), classes).astype(
        "float32"
    )
    return labels, logits


def _np(x):
    return keras.ops.convert_to_numpy(x)


@pytest.mark.backends
@pytest.mark.parametrize("axis", [-1, 0])
def test_softmax_equals_keras(axis):
    _, logits = _batch(scale=30.0)  # large logits: the max-shift must prevent overflow
    ours = _np(losses.softmax(logits, axis=axis))
    np.testing.assert_allclose(
        ours, _np(keras.ops.softmax(logits, axis=axis)), rtol=1e-6, atol=1e-7
    )
    np.testing.assert_allclose(ours.sum(axis=axis), 1.0, rtol=1e-6)
    np.testing.assert_allclose(
        _np(losses.log_softmax(logits, axis=axis)),
        _np(keras.ops.log_softmax(logits, axis=axis)),
        atol=1e-5,
    )


@pytest.mark.backends
def test_cross_entropy_from_logits_equals_keras():
    labels, logits = _batch()
    ours = _np(losses.cross_entropy(labels, logits, from_logits=True))
    keras_ = _np(keras.losses.categorical_crossentropy(labels, logits, from_logits=True))
    np.testing.assert_allclose(ours, keras_, rtol=1e-5, atol=1e-6)


@pytest.mark.backends
def test_cross_entropy_from_probabilities_equals_keras_including_clipping():
    labels, logits = _batch(scale=20.0)  # some probabilities below epsilon: Keras clips them
    probabilities = _np(keras.ops.softmax(logits))
    assert probabilities.min() < keras.config.epsilon()
    ours = _np(losses.cross_entropy(labels, probabilities))
    keras_ = _np(keras.losses.categorical_crossentropy(labels, probabilities))
    np.testing.assert_allclose(ours, keras_, rtol=1e-5, atol=1e-6)


@pytest.mark.backends
def test_probability_mse_equals_keras_mse_on_softmax():
    labels, logits = _batch()
    ours = _np(losses.probability_mse(labels, logits))
    keras_ = _np(keras.losses.mean_squared_error(labels, keras.ops.softmax(logits)))
    np.testing.assert_allclose(ours, keras_, rtol=1e-6, atol=1e-7)
    probabilities = keras.ops.softmax(logits)
    np.testing.assert_allclose(
        _np(losses.probability_mse(labels, probabilities, from_logits=False)),
        keras_,
        rtol=1e-6,
        atol=1e-7,
    )


@pytest.mark.backends
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
def test_loss_classes_equal_keras_classes(reduction):
    labels, logits = _batch(seed=1)
    weights = np.linspace(0.5, 1.5, len(labels)).astype("float32")
    ours = losses.CrossEntropy(from_logits=True, reduction=reduction)
    keras_ = keras.losses.CategoricalCrossentropy(from_logits=True, reduction=reduction)
    np.testing.assert_allclose(
        _np(ours(labels, logits, sample_weight=weights)),
        _np(keras_(labels, logits, sample_weight=weights)),
        rtol=1e-5,
    )
    ours = losses.ProbabilityMSE(reduction=reduction)
    keras_ = keras.losses.MeanSquaredError(reduction=reduction)
    np.testing.assert_allclose(
        _np(ours(labels, logits, sample_weight=weights)),
        _np(keras_(labels, keras.ops.softmax(logits), sample_weight=weights)),
        rtol=1e-5,
    )


def test_confidently_wrong_answer_cross_entropy_is_steep_mse_is_flat():
    """Lecture 7's point: at large wrong logits CE still has a gradient of size ~1,
    MSE almost none.
    """
    labels = np.array([[1.0, 0.0]], dtype="float32")
    logits = keras.Variable(np.array([[-8.0, 8.0]], dtype="float32"))

    def gradient_norm(loss_fn):
        import tensorflow as tf

        with tf.GradientTape() as tape:
            value = loss_fn(labels, logits)
        return float(np.linalg.norm(tape.gradient(value, logits.value).numpy()))

    ce = gradient_norm(losses.CrossEntropy(from_logits=True))
    mse = gradient_norm(losses.ProbabilityMSE())
    assert ce > 1.0  # |y' - ŷ| ≈ (1, 1): norm ≈ √2
    assert mse < 1e-5
    np.testing.assert_allclose(ce, np.sqrt(2.0), rtol=1e-4)


def test_model_compiles_and_saves_with_our_loss(tmp_path):
    labels, logits = _batch(seed=2, batch=32, classes=3)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3)])
    model.compile(optimizer="sgd", loss=losses.ProbabilityMSE())
    model.fit(logits, labels, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    reloaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert isinstance(reloaded.loss, losses.ProbabilityMSE)
    np.testing.assert_allclose(
        reloaded.evaluate(logits, labels, verbose=0),
        model.evaluate(logits, labels, verbose=0),
        rtol=1e-6,
    )


@pytest.mark.backends
def test_losses_under_mixed_float16_compute_in_float32_and_match_keras():
    keras.mixed_precision.set_global_policy("mixed_float16")
    labels, logits = _batch(seed=3, scale=8.0)
    half = keras.ops.cast(logits, "float16")
    ours = losses.CrossEntropy(from_logits=True)
    assert ours.dtype == "float32"
    value = float(ours(labels, half))
    assert np.isfinite(value)
    np.testing.assert_allclose(
        value,
        float(keras.losses.CategoricalCrossentropy(from_logits=True)(labels, half)),
        rtol=1e-5,
    )
    mse = float(losses.ProbabilityMSE()(labels, half))
    np.testing.assert_allclose(
        mse,
        float(
            keras.losses.MeanSquaredError()(
                labels, keras.ops.softmax(keras.ops.cast(half, "float32"))
            )
        ),
        rtol=1e-5,
    )
