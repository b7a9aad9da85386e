"""Behaviour of the self-attention and positional-encoding layers (ML2021 L10-11).

The shared battery (tests/battery_cases/attention.py) covers config, build, saving, mixed precision
and bad arguments; here are the properties that make them attention layers.
"""

import keras
import numpy as np
import pytest
from keras import ops

from mlcourse.layers import (
    DistanceDecayAttention,
    MultiHeadSelfAttention,
    PositionEmbedding,
    SelfAttention,
    SinusoidalPositionalEncoding,
    attention_mask_of,
    collapse_two_stage_heads,
)

RNG = np.random.default_rng(7)
X = RNG.normal(size=(2, 7, 8)).astype("float32")


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _layers():
    return [
        SelfAttention(6, score="dot"),
        SelfAttention(6, score="scaled_dot"),
        SelfAttention(6, score="additive"),
        MultiHeadSelfAttention(8, num_heads=2),
        MultiHeadSelfAttention(8, num_heads=4, score="additive"),
    ]


def _ids():
    return ["single-dot", "single-scaled", "single-additive", "multi-scaled", "multi-additive"]


@pytest.mark.parametrize("index", range(5), ids=_ids())
def test_permuting_tokens_permutes_outputs(index):
    layer = _layers()[index]
    permutation = RNG.permutation(X.shape[1])
    out = _np(layer(X))
    out_permuted = _np(layer(X[:, permutation]))
    np.testing.assert_allclose(out_permuted, out[:, permutation], atol=1e-5)
    assert not np.allclose(out_permuted, out, atol=1e-3), "outputs do not depend on the order"


def test_positional_encoding_breaks_permutation_symmetry():
    encode, attend = SinusoidalPositionalEncoding(), MultiHeadSelfAttention(8, num_heads=2)
    permutation = np.array([1, 0, 2, 3, 4, 5, 6])
    out = _np(attend(encode(X)))
    out_permuted = _np(attend(encode(X[:, permutation])))
    assert not np.allclose(out_permuted, out[:, permutation], atol=1e-3)


def _changed(x, batch, position):
    x = x.copy()
    x[batch, position] += 10.0
    return x


@pytest.mark.parametrize("index", range(5), ids=_ids())
def test_padding_tokens_are_invisible(index):
    layer = _layers()[index]
    padding = np.ones((2, 7), bool)
    padding[0, 5:] = False  # the last two tokens of sentence 0 are padding
    out = _np(layer(X, mask=padding))
    out_changed = _np(layer(_changed(X, 0, 6), mask=padding))
    np.testing.assert_allclose(out_changed[0, :5], out[0, :5], atol=1e-5)
    unmasked = _np(layer(_changed(X, 0, 6)))
    assert not np.allclose(unmasked[0, :5], out[0, :5], atol=1e-3)


def test_keras_mask_from_embedding_reaches_the_layer():
    ids = np.array([[3, 4, 5, 0, 0], [6, 7, 8, 9, 2]])
    inputs = keras.Input((5,), dtype="int32")
    hidden = keras.layers.Embedding(10, 8, mask_zero=True)(inputs)
    outputs = SelfAttention(4, name="attention")(hidden)
    model = keras.Model(inputs, outputs)
    embedding = model.layers[1]
    table = _np(embedding.embeddings).copy()
    before = _np(model(ids))
    table[0] += 5.0  # move the padding vector: the real tokens' outputs must not move
    embedding.embeddings.assign(table)
    after = _np(model(ids))
    np.testing.assert_allclose(after[0, :3], before[0, :3], atol=1e-5)
    np.testing.assert_allclose(after[1], before[1], atol=1e-5)


@pytest.mark.parametrize(
    "layer", [SelfAttention(6, causal=True), MultiHeadSelfAttention(8, 2, causal=True)]
)
def test_causal_hides_the_future(layer):
    out = _np(layer(X))
    out_changed = _np(layer(_changed(X, 1, 4)))
    np.testing.assert_allclose(out_changed[:, :4], out[:, :4], atol=1e-5)
    assert not np.allclose(out_changed[1, 4:], out[1, 4:], atol=1e-3)


@pytest.mark.parametrize(
    "layer", [SelfAttention(6, window=2), MultiHeadSelfAttention(8, 2, window=2)]
)
def test_window_hides_tokens_out_of_reach(layer):
    out = _np(layer(X))
    out_changed = _np(layer(_changed(X, 0, 6)))  # position 6 is within ±2 of 4, 5, 6 only
    np.testing.assert_allclose(out_changed[0, :4], out[0, :4], atol=1e-5)
    assert not np.allclose(out_changed[0, 4:], out[0, 4:], atol=1e-3)
    np.testing.assert_allclose(out_changed[1], out[1], atol=1e-6)


def test_window_zero_is_a_per_token_layer():
    layer = SelfAttention(6, window=0)
    out, weights = layer(X, return_attention_scores=True)
    np.testing.assert_allclose(_np(weights)[0], np.eye(7), atol=1e-6)
    value = X @ _np(layer.value_kernel) + _np(layer.value_bias)
    np.testing.assert_allclose(_np(out), value, atol=1e-5)


def test_attention_mask_combines_the_rules():
    padding = np.array([[True, True, True, False]])
    visible = _np(attention_mask_of(4, padding_mask=padding, causal=True, window=1))
    expected = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 0]], bool)
    np.testing.assert_array_equal(visible[0], expected)
    assert attention_mask_of(4) is None


def test_attention_weights_are_a_distribution_over_visible_keys():
    layer = MultiHeadSelfAttention(8, num_heads=2, window=1)
    _, weights = layer(X, return_attention_scores=True)
    weights = _np(weights)
    assert weights.shape == (2, 2, 7, 7)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)
    far = np.abs(np.arange(7)[:, None] - np.arange(7)[None, :]) > 1
    assert np.all(weights[..., far] == 0.0)


def test_single_head_matches_the_lecture_formula():
    layer = SelfAttention(5, score="dot", use_bias=False)
    out = _np(layer(X))
    q, k, v = (X @ _np(getattr(layer, f"{n}_kernel")) for n in ("query", "key", "value"))
    scores = q @ k.transpose(0, 2, 1)
    alpha = np.exp(scores - scores.max(-1, keepdims=True))
    alpha /= alpha.sum(-1, keepdims=True)
    np.testing.assert_allclose(out, alpha @ v, atol=1e-4)


# --- interchange with keras.layers.MultiHeadAttention ------------------------------------------


def _keras_pair(num_heads=2, key_dim=4, features=8, output_shape=None):
    keras_layer = keras.layers.MultiHeadAttention(num_heads, key_dim, output_shape=output_shape)
    keras_layer(X[..., :features], X[..., :features])
    ours = MultiHeadSelfAttention(num_heads * key_dim, num_heads, output_dim=output_shape)
    ours.build((None, None, features))
    return keras_layer, ours


@pytest.mark.backends
def test_weights_have_the_keras_shapes_and_order():
    keras_layer, ours = _keras_pair(num_heads=3, key_dim=5)
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in keras_layer.weights]


@pytest.mark.backends
def test_keras_weights_give_the_same_outputs():
    keras_layer, ours = _keras_pair()
    ours.set_weights(keras_layer.get_weights())
    expected, expected_scores = keras_layer(X, X, return_attention_scores=True)
    out, scores = ours(X, return_attention_scores=True)
    np.testing.assert_allclose(_np(out), _np(expected), atol=1e-5)
    np.testing.assert_allclose(_np(scores), _np(expected_scores), atol=1e-6)


@pytest.mark.backends
def test_our_weights_give_keras_the_same_outputs_with_causal_mask():
    keras_layer, ours = _keras_pair(num_heads=4, key_dim=3, output_shape=5)
    keras_layer.set_weights(ours.get_weights())
    causal = MultiHeadSelfAttention.from_config({**ours.get_config(), "causal": True})
    causal.build((None, None, 8))
    causal.set_weights(ours.get_weights())
    np.testing.assert_allclose(
        _np(causal(X)), _np(keras_layer(X, X, use_causal_mask=True)), atol=1e-5
    )


@pytest.mark.backends
def test_padding_mask_agrees_with_keras_on_real_tokens():
    keras_layer, ours = _keras_pair()
    ours.set_weights(keras_layer.get_weights())
    padding = np.ones((2, 7), bool)
    padding[1, 4:] = False
    expected = _np(keras_layer(X, X, query_mask=padding, value_mask=padding))
    out = _np(ours(X, mask=padding))
    np.testing.assert_allclose(out[padding], expected[padding], atol=1e-5)


# --- the score hook ---------------------------------------------------------------------------


class UniformAttention(SelfAttention):
    """Every key scores 0: the attention is a plain average of the values."""

    def score(self, query, key):
        return ops.zeros(
            (ops.shape(query)[0], ops.shape(query)[1], ops.shape(key)[1]), self.compute_dtype
        )


class NegatedDot(MultiHeadSelfAttention):
    def score(self, query, key):
        return -super().score(query, key)


def test_overriding_score_changes_the_rule():
    layer = UniformAttention(6)
    out = _np(layer(X))
    value = X @ _np(layer.value_kernel) + _np(layer.value_bias)
    np.testing.assert_allclose(out, np.repeat(value.mean(1, keepdims=True), 7, axis=1), atol=1e-5)
    padding = np.ones((2, 7), bool)
    padding[0, 3:] = False
    masked = _np(layer(X, mask=padding))  # masks still apply to a custom rule
    np.testing.assert_allclose(
        masked[0], np.repeat(value[0, :3].mean(0, keepdims=True), 7, axis=0), atol=1e-5
    )


def test_subclass_score_is_used_by_multi_head():
    plain, negated = MultiHeadSelfAttention(8, 2), NegatedDot(8, 2)
    plain.build(X.shape)
    negated.build(X.shape)
    negated.set_weights(plain.get_weights())
    _, w_plain = plain(X, return_attention_scores=True)
    _, w_negated = negated(X, return_attention_scores=True)
    raw = _np(plain.score(plain.project(X, "query"), plain.project(X, "key")))
    expected = np.exp(-raw - (-raw).max(-1, keepdims=True))
    np.testing.assert_allclose(
        _np(w_negated), expected / expected.sum(-1, keepdims=True), atol=1e-5
    )
    assert not np.allclose(_np(w_negated), _np(w_plain), atol=1e-3)


# --- distance decay -----------------------------------------------------------------------------


def _softmax(s):
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.mark.parametrize("decay", ["exponential", "alibi"])
def test_distance_decay_scores(decay):
    layer = DistanceDecayAttention(8, num_heads=2, decay=decay, tau=3.0)
    layer.build(X.shape)
    plain = MultiHeadSelfAttention(8, 2)
    plain.build(X.shape)
    plain.set_weights(layer.get_weights()[:-1])
    raw = _np(plain.score(plain.project(X, "query"), plain.project(X, "key")))
    distance = np.abs(np.arange(7)[:, None] - np.arange(7)[None, :])
    if decay == "exponential":
        expected = raw * np.exp(-distance / 3.0)
    else:
        slopes = np.array([2.0**-4, 2.0**-8])[None, :, None, None]
        expected = raw - slopes * distance
    _, weights = layer(X, return_attention_scores=True)
    np.testing.assert_allclose(_np(weights), _softmax(expected), atol=1e-5)


def test_distance_decay_with_long_tau_is_plain_attention():
    layer = DistanceDecayAttention(8, num_heads=2, tau=1e9)
    layer.build(X.shape)
    plain = MultiHeadSelfAttention(8, 2)
    plain.build(X.shape)
    plain.set_weights(layer.get_weights()[:-1])
    np.testing.assert_allclose(_np(layer(X)), _np(plain(X)), atol=1e-5)


def test_distance_decay_learns_tau():
    layer = DistanceDecayAttention(8, num_heads=2)
    x = keras.Input((7, 8))
    model = keras.Model(x, layer(x))
    model.compile("adam", "mse")
    before = _np(layer.log_decay).copy()
    model.fit(X, RNG.normal(size=X.shape).astype("float32"), epochs=2, verbose=0)
    assert not np.allclose(_np(layer.log_decay), before)
    assert any(v is layer.log_decay for v in layer.trainable_variables)


def test_distance_decay_on_images_uses_pixel_distance():
    images = RNG.normal(size=(2, 3, 4, 5)).astype("float32")
    layer = DistanceDecayAttention(4, num_heads=1, decay="alibi", output_dim=6)
    out, weights = layer(images, return_attention_scores=True)
    assert out.shape == (2, 3, 4, 6)
    assert weights.shape == (2, 1, 12, 12)
    rows, cols = np.divmod(np.arange(12), 4)
    expected = np.hypot(rows[:, None] - rows[None], cols[:, None] - cols[None])
    np.testing.assert_allclose(_np(layer.distances(12)), expected, atol=1e-6)
    moved = images.copy()
    moved[:, :, :] = np.roll(
        images, 1, axis=1
    )  # rolling rows changes pixel distances: outputs differ
    assert not np.allclose(_np(layer(moved)), np.roll(_np(out), 1, axis=1), atol=1e-4)


# --- the student's multi-head question ---------------------------------------------------------


def test_two_stage_head_projections_collapse_into_one_matrix():
    features, width, heads, depth = 8, 8, 2, 4
    rng = np.random.default_rng(3)
    shared = {
        n: rng.normal(size=(features, width)).astype("float32") / 3
        for n in ("query", "key", "value")
    }
    per_head = {n: rng.normal(size=(heads, width, depth)).astype("float32") / 3 for n in shared}
    layer = MultiHeadSelfAttention(heads * depth, heads, use_bias=False)
    layer.build(X.shape)
    output_kernel = _np(layer.output_kernel)
    layer.set_weights(
        [_np(collapse_two_stage_heads(shared[n], per_head[n])) for n in shared] + [output_kernel]
    )

    # the lecture's two-stage computation, written out: q = a W^q, then q^h = q W^{q,h}
    def heads_of(name):
        return np.einsum("btw,hwd->bhtd", X @ shared[name], per_head[name])

    q, k, v = heads_of("query"), heads_of("key"), heads_of("value")
    alpha = _softmax(q @ k.transpose(0, 1, 3, 2) / np.sqrt(depth))
    expected = np.einsum("bhtd,hdo->bto", alpha @ v, output_kernel)
    np.testing.assert_allclose(_np(layer(X)), expected, atol=1e-4)
    two_stage = sum(shared[n].size + per_head[n].size for n in shared)
    collapsed = sum(_np(w).size for w in layer.weights[:3])
    assert (two_stage, collapsed) == (3 * (64 + 64), 3 * 64)


# --- positional encodings -----------------------------------------------------------------------


def test_sinusoidal_encoding_formula():
    zeros = np.zeros((1, 5, 6), "float32")
    table = _np(SinusoidalPositionalEncoding()(zeros))[0]
    p, i = np.arange(5)[:, None], np.arange(6)[None, :]
    angle = p / 10000.0 ** ((i // 2 * 2) / 6)
    np.testing.assert_allclose(table, np.where(i % 2 == 0, np.sin(angle), np.cos(angle)), atol=1e-6)


def test_position_embedding_adds_one_row_per_position():
    layer = PositionEmbedding(10)
    out = _np(layer(X))
    np.testing.assert_allclose(out - X, np.broadcast_to(_np(layer.table)[:7], X.shape), atol=1e-6)
    with pytest.raises(ValueError, match="sequence_length"):
        PositionEmbedding(5)(X)


@pytest.mark.parametrize(
    "make, argument",
    [
        (lambda: MultiHeadSelfAttention(12, num_heads=5), "num_heads"),
        (lambda: SelfAttention(4, window=-1), "window"),
        (lambda: MultiHeadSelfAttention(8, 2, score="cosine"), "score"),
    ],
    ids=["heads-not-dividing-width", "negative-window", "unknown-score"],
)
def test_bad_arguments_from_the_issue(make, argument):
    with pytest.raises(ValueError, match=argument) as error:
        make()
    assert "must" in str(error.value)


# --- single-head twins in Keras: keras.layers.Attention (dot) and AdditiveAttention ---------------


@pytest.mark.backends
@pytest.mark.parametrize("score", ["dot", "additive"])
def test_single_head_equals_keras_attention_on_the_same_projections(score):
    layer = SelfAttention(6, score=score)
    padding = np.ones((2, 7), bool)
    padding[0, 4:] = False
    out = _np(layer(X, mask=padding))
    q, k, v = (_np(layer.project(X, name)) for name in ("query", "key", "value"))
    if score == "dot":
        twin = keras.layers.Attention(score_mode="dot")
    else:
        twin = keras.layers.AdditiveAttention(use_scale=True)
        twin.build([q.shape, v.shape, k.shape])
        twin.scale.assign(_np(layer.score_vector))
    expected = _np(twin([q, v, k], mask=[None, padding]))
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_distance_decay_on_images_under_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_float16")
    layer = DistanceDecayAttention(8, num_heads=2, decay="exponential")
    out = _np(layer(RNG.normal(size=(2, 4, 4, 3)).astype("float32")))
    assert out.dtype == np.float16 and out.shape == (2, 4, 4, 3) and np.all(np.isfinite(out))
    assert layer.log_decay.dtype == "float32"
