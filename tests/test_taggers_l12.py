"""The lecture 12 taggers: a Transformer encoder stack and a Conformer stack (homework 4)."""

import keras
import numpy as np
import pytest

from mlcourse.callbacks.attention_maps import attention_weights
from mlcourse.data.sequence_labeling import cue_task
from mlcourse.layers import ConformerBlock, TransformerEncoderBlock
from mlcourse.models.taggers import tagger

DATA = cue_task(16, max_length=12, seed=0)


def _model(kind, **options):
    return tagger(kind, len(DATA.vocabulary), len(DATA.tags), 12, units=8, num_heads=2, **options)


@pytest.mark.parametrize(
    "kind, block", [("transformer", TransformerEncoderBlock), ("conformer", ConformerBlock)]
)
def test_the_stacks_have_num_layers_blocks_and_see_the_whole_sentence(kind, block):
    model = _model(kind, num_layers=3, window=1)
    prefix = "encoder" if kind == "transformer" else "conformer"
    assert [layer.name for layer in model.layers if isinstance(layer, block)] == [
        f"{prefix}_{n}" for n in (1, 2, 3)
    ]
    far = DATA.x.copy()
    far[:, 10] = np.where(
        far[:, 10] > 0, 1 + (far[:, 10] % (len(DATA.vocabulary) - 1)), 0
    )  # another word
    rows = DATA.mask[:, 10]
    a, b = (keras.ops.convert_to_numpy(model(x, training=False))[rows, 0] for x in (DATA.x, far))
    assert np.abs(a - b).max() > 1e-6  # token 0 depends on token 10


def test_a_one_layer_window_tagger_does_not_see_that_far():
    model = _model("window", window=1)
    far = DATA.x.copy()
    far[:, 10] = np.where(far[:, 10] > 0, 1 + (far[:, 10] % (len(DATA.vocabulary) - 1)), 0)
    a, b = (keras.ops.convert_to_numpy(model(x, training=False))[:, 0] for x in (DATA.x, far))
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_transformer_tagger_attention_maps_hide_padding():
    model = _model("transformer")
    weights = attention_weights(model, "encoder_1", DATA.x[:2], DATA.mask[:2])
    assert weights.shape == (2, 2, 12, 12)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)
    assert np.all(weights[0][..., ~DATA.mask[0]] < 1e-6)


def test_bad_num_layers():
    with pytest.raises(ValueError, match="num_layers"):
        _model("transformer", num_layers=0)
