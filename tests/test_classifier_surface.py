"""Lecture 7's two-parameter classifier: surfaces agree with Keras,
CE is steep where MSE is flat.
"""

import json

import keras
import numpy as np
import pytest

from mlcourse.analysis import classifier_surface as cs
from mlcourse.callbacks.weight_trajectory import WeightTrajectory

W = np.linspace(-10, 10, 41)
B = np.linspace(-10, 10, 21)


@pytest.fixture(scope="module")
def data():
    return cs.two_class_data(n=60, seed=0)


def test_surface_equals_keras_losses_on_the_keras_model(data):
    x, y = data
    surfaces = {name: cs.loss_surface(name, x, y, W, B) for name in cs.LOSSES}
    assert surfaces["mse"].shape == (len(B), len(W))
    for i, j in [(0, 0), (5, 30), (20, 40), (10, 20)]:
        logits = cs.build_classifier(W[j], B[i])(x)
        ce = keras.losses.CategoricalCrossentropy(from_logits=True)(y, logits)
        mse = keras.losses.MeanSquaredError()(y, keras.ops.softmax(logits))
        np.testing.assert_allclose(surfaces["cross-entropy"][i, j], float(ce), rtol=1e-4)
        np.testing.assert_allclose(surfaces["mse"][i, j], float(mse), rtol=1e-4)


def test_bad_region_is_flat_for_mse_and_steep_for_cross_entropy(data):
    x, y = data
    w = np.array([-7.0, -6.0])  # large wrong logits, finite differences along w at b = 0
    ce = cs.loss_surface("cross-entropy", x, y, w, [0.0])[0]
    mse = cs.loss_surface("mse", x, y, w, [0.0])[0]
    assert ce[0] - ce[1] > 0.5  # CE drops ~1 per unit of w: a slope to follow
    assert mse[0] - mse[1] < 0.01  # MSE barely changes: a plateau
    assert mse[0] > 0.9  # ... at nearly the worst MSE


def test_classifier_has_two_trainable_parameters():
    model = cs.build_classifier(-6.0, 0.5)
    assert sum(int(np.prod(v.shape)) for v in model.trainable_weights) == 2
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(np.array([[1.0]]))), [[5.5, -5.5]])


def test_accuracy_and_steps_to_accuracy(data):
    x, y = data
    assert cs.accuracy(5.0, 0.0, x, y) > 0.9
    assert cs.accuracy(-5.0, 0.0, x, y) < 0.1
    np.testing.assert_allclose(
        cs.accuracy(np.array([5.0, -5.0]), np.array([0.0, 0.0]), x, y),
        [cs.accuracy(5.0, 0.0, x, y), cs.accuracy(-5.0, 0.0, x, y)],
    )
    assert cs.steps_to_accuracy([0.1, 0.5, 0.95, 0.99], 0.9) == 3
    assert cs.steps_to_accuracy([0.1, 0.5], 0.9) is None


def test_trajectory_records_every_update_and_resumes(tmp_path, data):
    x, y = data
    model = cs.build_classifier(-6.0, 0.0)
    model.compile(keras.optimizers.SGD(1.0), keras.losses.CategoricalCrossentropy(from_logits=True))
    path = tmp_path / "trajectory.json"
    model.fit(x, y, batch_size=20, epochs=2, verbose=0, callbacks=[WeightTrajectory(path)])
    saved = json.loads(path.read_text())
    assert saved["names"] == [
        "score/kernel",
        "score/bias",
    ]
    assert [p[0] for p in saved["history"]] == list(range(7))  # start + 2 epochs x 3 updates
    w_final = float(keras.ops.convert_to_numpy(model.trainable_weights[0])[0, 0])
    assert saved["history"][-1][1] == pytest.approx(w_final)
    assert saved["history"][-1][1] > saved["history"][0][1] == -6.0  # cross-entropy moved w up
    resumed = WeightTrajectory(path)
    model.fit(x, y, batch_size=20, epochs=1, verbose=0, callbacks=[resumed])
    assert [int(p[0]) for p in resumed.array()] == list(range(10))


def test_bad_arguments_name_the_argument(data):
    with pytest.raises(ValueError, match="loss"):
        cs.loss_surface("hinge", *data, W, B)
    with pytest.raises(ValueError, match="spread"):
        cs.two_class_data(spread=0)
    with pytest.raises(ValueError, match="max_parameters"):
        WeightTrajectory("t.json", max_parameters=0)


def test_loss_along_a_path_matches_the_surface(data):
    x, y = data
    surface = cs.loss_surface("mse", x, y, W, B)
    along = cs.loss_along("mse", W[[3, 7]], B[[2, 9]], x, y)
    np.testing.assert_allclose(along, [surface[2, 3], surface[9, 7]], rtol=1e-6)
