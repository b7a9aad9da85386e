"""The lecture-3 model builders: shapes, parameter counts, remedies, and the shifted test images."""

import keras
import numpy as np
import pytest

from mlcourse.models import playbook


def _images(n=4, seed=0):
    return np.random.default_rng(seed).random((n, 28, 28)).astype("float32")


@pytest.mark.parametrize("remedy", playbook.REMEDIES)
def test_every_remedy_gives_ten_logits(remedy):
    model = playbook.remedy_model(remedy, units=32)
    assert model(_images()).shape == (4, 10)


def test_remedies_change_what_they_say():
    base = playbook.remedy_model("baseline", units=64)
    assert (
        playbook.remedy_model("fewer-parameters", units=64).count_params() < base.count_params() / 4
    )
    assert playbook.remedy_model("sharing").count_params() < base.count_params() / 4
    assert any(
        isinstance(layer, keras.layers.Dropout)
        for layer in playbook.remedy_model("dropout", units=64).layers
    )
    l2 = playbook.remedy_model("l2", units=64)
    l2(_images())
    assert len(l2.losses) == 2  # one penalty per hidden kernel
    augmented = playbook.remedy_model("augmentation", units=64)
    x = _images()
    np.testing.assert_allclose(augmented(x, training=False), augmented(x, training=False))
    assert not np.allclose(augmented(x, training=True), augmented(x, training=False))


def test_plain_stack_depth_and_logistic():
    assert (
        len(
            [
                layer
                for layer in playbook.plain_stack(20).layers
                if isinstance(layer, keras.layers.Dense)
            ]
        )
        == 21
    )
    assert playbook.logistic().count_params() == 785 * 10


def test_shift_images():
    x = _images()
    np.testing.assert_allclose(playbook.shift_images(x), 1 - x)
    np.testing.assert_allclose(playbook.shift_images(x, "rotate")[0], np.rot90(x[0]))
    with pytest.raises(ValueError, match="kind"):
        playbook.shift_images(x, "blur")
    with pytest.raises(ValueError, match="remedy"):
        playbook.remedy_model("more-data")
    with pytest.raises(ValueError, match="units"):
        playbook.mlp(2, 0)
