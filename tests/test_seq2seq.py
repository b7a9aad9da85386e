"""The lecture 12 encoder–decoder: arrays, causal masking, greedy decoding, cross-attention, maps
callback.
"""

import glob

import keras
import numpy as np
import pytest
from keras import ops

from mlcourse.callbacks.cross_attention_maps import CrossAttentionMaps
from mlcourse.models import seq2seq
from mlcourse.models.seq2seq import (
    END,
    START,
    char_vocabulary,
    cross_attention_weights,
    decode,
    encode_chars,
    exact_match,
    greedy_decode,
    seq2seq_arrays,
    transformer_seq2seq,
)

PAIRS = [("evlerde", "ev"), ("kitabı", "kitap"), ("gel", "gel"), ("geldi", "gel")]
VOCABULARY = char_vocabulary([c for pair in PAIRS for c in pair])


def _model(**options):
    return transformer_seq2seq(len(VOCABULARY), 8, 7, units=16, num_heads=2, ff_dim=16, **options)


def test_teacher_forcing_arrays_are_the_target_shifted_by_one():
    source, decoder_in, decoder_out = seq2seq_arrays(PAIRS, VOCABULARY, 8, 7)
    start, end = VOCABULARY.index(START), VOCABULARY.index(END)
    assert source.shape == (4, 8) and decoder_in.shape == decoder_out.shape == (4, 7)
    np.testing.assert_array_equal(
        decoder_in[:, 1:], np.where(decoder_out[:, :-1] == end, 0, decoder_out[:, :-1])
    )
    assert (decoder_in[:, 0] == start).all()
    assert decode(decoder_out, VOCABULARY) == [t for _, t in PAIRS]
    assert decode(decoder_in, VOCABULARY) == [t for _, t in PAIRS]  # <s> is skipped
    assert decode(source, VOCABULARY) == [s for s, _ in PAIRS]
    assert decode(encode_chars(["evlerde"], VOCABULARY, 3), VOCABULARY) == [
        "evl"
    ]  # cut to the width
    assert decode(encode_chars(["x"], VOCABULARY, 3), VOCABULARY) == [
        ""
    ]  # unknown characters are dropped


@pytest.mark.parametrize("norm_first", [True, False])
def test_a_future_target_token_does_not_change_earlier_outputs(norm_first):
    model = _model(norm_first=norm_first, positions="sinusoidal")
    source, decoder_in, _ = seq2seq_arrays(PAIRS, VOCABULARY, 8, 7)
    rng = np.random.default_rng(0)
    for k in (1, 3, 5):
        changed = decoder_in.copy()
        changed[:, k:] = rng.integers(4, len(VOCABULARY), size=changed[:, k:].shape)
        a, b = (
            ops.convert_to_numpy(model([source, d], training=False)) for d in (decoder_in, changed)
        )
        np.testing.assert_allclose(a[:, :k], b[:, :k], atol=1e-5)
        assert (
            np.abs(a[:, k:] - b[:, k:]).max() > 1e-4
        )  # the test can fail: later outputs do change
    assert cross_attention_weights(model, source, decoder_in).shape == (
        4,
        2,
        7,
        8,
    )  # with or without encoder_norm


def test_the_source_is_visible_to_every_output_and_its_padding_is_not():
    model = _model()
    source, decoder_in, _ = seq2seq_arrays(PAIRS, VOCABULARY, 8, 7)
    changed = source.copy()
    changed[:, 0] = 1  # the unknown character: differs from every first letter
    a, b = (ops.convert_to_numpy(model([s, decoder_in], training=False)) for s in (source, changed))
    assert (np.abs(a - b).max(axis=-1) > 1e-5).all()
    weights = cross_attention_weights(model, source, decoder_in)
    assert weights.shape == (4, 2, 7, 8)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)
    assert np.all(weights[2][..., source[2] == 0] < 1e-6)  # "gel": positions 3-7 are padding
    first = cross_attention_weights(model, source, decoder_in, block=0)
    assert first.shape == (4, 2, 7, 8) and not np.allclose(first, weights)


def _counting_model(vocabulary_size, source_length, target_length):
    """A stand-in decoder: the next token is always the current input token + 1."""
    source = keras.Input((source_length,), dtype="int32")
    target = keras.Input((target_length,), dtype="int32")
    probabilities = keras.layers.Lambda(
        lambda t: ops.one_hot(ops.minimum(t + 1, vocabulary_size - 1), vocabulary_size)
    )(target)
    return keras.Model([source, target], probabilities)


def test_greedy_decoding_feeds_back_its_own_predictions_and_stops_at_the_end():
    model = _counting_model(12, 4, 8)
    out = greedy_decode(model, np.zeros((3, 4), "int32"), 8, start_id=5, end_id=9, batch_size=2)
    np.testing.assert_array_equal(out, np.tile([6, 7, 8, 9, 0, 0, 0, 0], (3, 1)))
    out = greedy_decode(model, np.zeros((1, 4), "int32"), 3, start_id=5, end_id=9)
    np.testing.assert_array_equal(out, [[6, 7, 8]])  # max_length reached before the end token
    with pytest.raises(ValueError, match="max_length"):
        greedy_decode(model, np.zeros((1, 4), "int32"), 9, start_id=5, end_id=9)


def test_a_small_transformer_learns_to_copy_with_teacher_forcing():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    letters = "abcde"
    words = sorted(
        {"".join(rng.choice(list(letters), size=rng.integers(2, 5))) for _ in range(600)}
    )
    vocabulary = char_vocabulary(letters)
    source, decoder_in, decoder_out = seq2seq_arrays([(w, w) for w in words], vocabulary, 5, 5)
    model = transformer_seq2seq(
        len(vocabulary), 5, 5, units=32, num_heads=2, ff_dim=64, num_layers=1, dropout=0.0
    )
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy")
    model.fit(
        [source, decoder_in],
        decoder_out,
        sample_weight=decoder_out > 0,
        batch_size=32,
        epochs=25,
        verbose=0,
    )
    predicted = decode(
        greedy_decode(model, source, 5, vocabulary.index(START), vocabulary.index(END)), vocabulary
    )
    assert exact_match(predicted, words) > 0.9


def test_exact_match_and_bad_arguments():
    assert exact_match(["ev", "gel"], ["ev", "git"]) == 0.5
    with pytest.raises(ValueError, match="predicted and gold"):
        exact_match(["ev"], [])
    with pytest.raises(ValueError, match="positions"):
        _model(positions="rotary")
    with pytest.raises(ValueError, match="num_layers"):
        _model(num_layers=0)
    with pytest.raises(ValueError, match="dropout"):
        _model(dropout=1.0)


def test_cross_attention_maps_are_written(tmp_path):
    model = _model()
    maps = CrossAttentionMaps(
        tmp_path, ["evlerde", "gel"], VOCABULARY, 8, gold=["ev", "gel"], every=2
    )
    maps.set_model(model)
    predicted, weights = maps.maps()
    assert len(predicted) == 2 and weights.shape == (2, 2, 7, 8)
    maps.on_epoch_end(0)
    assert not glob.glob(
        str(tmp_path / "cross_attention" / "events.out.tfevents.*")
    )  # not yet: every=2
    maps.on_train_end()
    assert glob.glob(str(tmp_path / "cross_attention" / "events.out.tfevents.*"))
    with pytest.raises(ValueError, match="every"):
        CrossAttentionMaps(tmp_path, ["ev"], VOCABULARY, 8, every=0)
    with pytest.raises(ValueError, match="gold"):
        CrossAttentionMaps(tmp_path, ["ev"], VOCABULARY, 8, gold=[])
    assert seq2seq.POSITIONS == ("learned", "sinusoidal")
