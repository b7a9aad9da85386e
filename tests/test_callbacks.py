"""The shared TensorBoard callbacks, each on a tiny model."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from mlcourse.callbacks import (
    ActivationHistogramLogger,
    GradientNormLogger,
    LearningRateLogger,
    layer_gradient_norms,
)
from mlcourse.callbacks.figures import figure_to_image

import events


def _model():
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(4, activation="tanh", name="hidden"),
            keras.layers.Dense(1, name="out"),
        ]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return model


def _data():
    x = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
    return x, x[:, :1] * 2


def _scalars(folder):
    return events.values(folder)


def test_layer_gradient_norms_match_a_manual_tape():
    model, (x, y) = _model(), _data()
    norms = layer_gradient_norms(model, x, y)
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError()(y, model(x, training=True))
    grads = tape.gradient(loss, model.get_layer("hidden").trainable_variables)
    expected = np.sqrt(sum(float(tf.reduce_sum(g**2)) for g in grads))
    assert list(norms) == ["hidden", "out"]
    np.testing.assert_allclose(norms["hidden"], expected, rtol=1e-5)


def test_gradient_norm_and_histograms_are_written(tmp_path):
    model, (x, y) = _model(), _data()
    grads = GradientNormLogger(tmp_path, x, y, every=2)
    hists = ActivationHistogramLogger(tmp_path, x, layer_names=["hidden"])
    model.fit(x, y, epochs=4, verbose=0, callbacks=[grads, hists])
    values = _scalars(tmp_path)
    assert [step for step, _ in values["gradient_norm/hidden"]] == [2, 4]
    assert len(values["activations/hidden"]) == 4
    assert grads.history[-1][1]["out"] > 0


def test_learning_rate_logger_follows_a_schedule(tmp_path):
    model, (x, y) = _model(), _data()
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay([4], [0.1, 0.01])
    model.compile(optimizer=keras.optimizers.SGD(schedule), loss="mse")
    model.fit(
        x,
        y,
        batch_size=8,
        epochs=2,
        verbose=0,
        callbacks=[LearningRateLogger(tmp_path, every=1)],
    )
    logged = _scalars(tmp_path)["learning_rate"]
    rates = {step: float(tf.make_ndarray(value.tensor)) for step, value in logged}
    assert sorted(rates) == list(range(1, 9))
    assert rates[1] == pytest.approx(0.1) and rates[8] == pytest.approx(0.01)


def test_bad_frequencies_are_rejected(tmp_path):
    x, y = _data()
    with pytest.raises(ValueError, match="every"):
        GradientNormLogger(tmp_path, x, y, every=0)
    with pytest.raises(ValueError, match="every"):
        LearningRateLogger(tmp_path, every=0)


def test_figure_to_image_shape():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(2, 1))
    axis.plot([0, 1])
    image = figure_to_image(figure)
    assert image.shape[0] == 1 and image.shape[-1] == 4 and image.dtype == tf.uint8
