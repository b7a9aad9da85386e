"""Transformer encoder/decoder blocks and the Conformer block (ML2021 L12)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from mlcourse.layers import ConformerBlock, TransformerDecoderBlock, TransformerEncoderBlock


def _sequence(batch=2, length=6, features=8, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, length, features)).astype("float32")


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _keras_mha_twin(ours, units, num_heads):
    """A keras.layers.MultiHeadAttention holding the same weights as our MultiHeadSelfAttention."""
    twin = keras.layers.MultiHeadAttention(num_heads, key_dim=units // num_heads)
    twin.build((None, None, units), (None, None, units))
    twin.set_weights(ours.get_weights())
    return twin


def _copy(source, target_shape, layer):
    layer.build(target_shape)
    layer.set_weights(source.get_weights())
    return layer


@pytest.mark.backends
@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_block_equals_the_same_block_from_keras_layers(norm_first):
    x = _sequence()
    block = TransformerEncoderBlock(8, num_heads=2, ff_dim=16, norm_first=norm_first)
    ours = _np(block(x))
    mha = _keras_mha_twin(block.attention, 8, 2)
    norm1 = _copy(block.attention_norm, x.shape, keras.layers.LayerNormalization(epsilon=1e-5))
    norm2 = _copy(block.ff_norm, x.shape, keras.layers.LayerNormalization(epsilon=1e-5))
    hidden = _copy(block._ff_hidden, x.shape, keras.layers.Dense(16, activation="relu"))
    out = _copy(block._ff_out, (2, 6, 16), keras.layers.Dense(8))
    if norm_first:
        h = x + mha(norm1(x), norm1(x))
        y = h + out(hidden(norm2(h)))
    else:
        h = norm1(x + mha(x, x))
        y = norm2(h + out(hidden(h)))
    np.testing.assert_allclose(ours, _np(y), atol=1e-5)


def test_post_norm_outputs_are_layer_normalised_and_pre_norm_are_not():
    x = 3.0 * _sequence() + 1.0
    post = _np(TransformerEncoderBlock(8, 2, 16, norm_first=False)(x))
    pre = _np(TransformerEncoderBlock(8, 2, 16, norm_first=True)(x))
    np.testing.assert_allclose(post.mean(-1), 0.0, atol=1e-5)
    np.testing.assert_allclose(post.std(-1), 1.0, atol=1e-2)
    assert np.abs(pre.mean(-1)).max() > 0.1


def test_encoder_ignores_padding_tokens_and_returns_attention():
    x = _sequence()
    mask = np.ones((2, 6), bool)
    mask[:, 4:] = False
    changed = x.copy()
    changed[:, 4:] = 5.0
    block = TransformerEncoderBlock(8, 2, 16)
    (a, weights), b = block(x, mask=mask, return_attention_scores=True), block(changed, mask=mask)
    np.testing.assert_allclose(_np(a)[:, :4], _np(b)[:, :4], atol=1e-5)
    weights = _np(weights)
    assert weights.shape == (2, 2, 6, 6)
    np.testing.assert_allclose(weights[..., 4:], 0.0, atol=1e-6)


def test_decoder_future_target_tokens_do_not_change_earlier_outputs():
    targets, source = _sequence(length=5, seed=1), _sequence(length=7, seed=2)
    block = TransformerDecoderBlock(8, num_heads=2, ff_dim=16)
    before = _np(block([targets, source]))
    changed = targets.copy()
    changed[:, 3] += 4.0  # change target token 3
    after = _np(block([changed, source]))
    np.testing.assert_allclose(before[:, :3], after[:, :3], atol=1e-5)  # positions 0..2 unchanged
    assert not np.allclose(before[:, 3:], after[:, 3:], atol=1e-3)  # 3 and 4 do change


def test_decoder_reads_the_encoder_and_hides_source_padding():
    targets, source = _sequence(length=5, seed=1), _sequence(length=7, seed=2)
    block = TransformerDecoderBlock(8, num_heads=2, ff_dim=16, norm_first=True)
    base, weights = block([targets, source], return_attention_scores=True)
    weights = _np(weights)
    assert weights.shape == (2, 2, 5, 7)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)
    other = _np(block([targets, source + 1.0]))
    assert not np.allclose(_np(base), other, atol=1e-3)  # the source matters
    source_mask = np.ones((2, 7), bool)
    source_mask[:, 5:] = False
    padded = source.copy()
    padded[:, 5:] = -7.0
    a = _np(block([targets, source], mask=[None, source_mask]))
    b = _np(block([targets, padded], mask=[None, source_mask]))
    np.testing.assert_allclose(a, b, atol=1e-5)


def _conformer_reference(block, x):
    """The Conformer equations written out with fresh Keras layers holding the block's weights."""

    def norm(source):
        return _copy(source, x.shape, keras.layers.LayerNormalization(epsilon=1e-5))

    wide = (2, 6, block.ff_expansion * 8)

    def half_ffn(h, norm_source, hidden_source, out_source):
        hidden = _copy(hidden_source, x.shape, keras.layers.Dense(wide[-1], activation="swish"))
        out = _copy(out_source, wide, keras.layers.Dense(8))
        return h + 0.5 * out(hidden(norm(norm_source)(h)))

    h = half_ffn(x, block.ff1_norm, block.ff1_hidden, block.ff1_out)
    mha = _keras_mha_twin(block.attention, 8, 2)
    normed = norm(block.attention_norm)(h)
    h = h + mha(normed, normed)
    pw_in = _copy(block.pointwise_in, x.shape, keras.layers.Conv1D(16, 1))(norm(block.conv_norm)(h))
    gated = pw_in[..., :8] * keras.ops.sigmoid(pw_in[..., 8:])
    dw = _copy(
        block.depthwise, x.shape, keras.layers.DepthwiseConv1D(block.kernel_size, padding="same")
    )
    bn = _copy(block.batch_norm, x.shape, keras.layers.BatchNormalization())
    conv = keras.ops.swish(bn(dw(gated), training=False))
    h = h + _copy(block.pointwise_out, x.shape, keras.layers.Conv1D(8, 1))(conv)
    h = half_ffn(h, block.ff2_norm, block.ff2_hidden, block.ff2_out)
    return _np(norm(block.final_norm)(h))


def test_conformer_block_follows_the_paper_equations():
    x = _sequence()
    block = ConformerBlock(8, num_heads=2, kernel_size=3, ff_expansion=2)
    block.build(x.shape)
    rng = np.random.default_rng(3)  # non-trivial batch-norm statistics and norm scales
    block.set_weights(
        [w + 0.3 * np.abs(rng.normal(size=w.shape)).astype("float32") for w in block.get_weights()]
    )
    np.testing.assert_allclose(
        _np(block(x, training=False)), _conformer_reference(block, x), atol=1e-4
    )


def test_conformer_convolution_is_local_before_attention_mixes():
    """With the attention's output weights at zero,
    output t depends only on inputs t−k//2 … t+k//2.
    """
    x = _sequence(length=10)
    block = ConformerBlock(8, num_heads=2, kernel_size=3)
    block.build(x.shape)
    block.attention.output_kernel.assign(np.zeros(block.attention.output_kernel.shape, "float32"))
    changed = x.copy()
    changed[:, 7] = _sequence(length=1, seed=9)[
        :, 0
    ]  # not a constant shift: LayerNorm would remove that
    a, b = _np(block(x)), _np(block(changed))
    np.testing.assert_allclose(a[:, :6], b[:, :6], atol=1e-5)
    np.testing.assert_allclose(a[:, 9:], b[:, 9:], atol=1e-5)
    for t in (6, 7, 8):  # the three taps around 7
        assert not np.allclose(a[:, t], b[:, t], atol=1e-3), t


def test_every_weight_gets_a_gradient():
    x = _sequence()
    for block in (ConformerBlock(8, 2, kernel_size=3), TransformerEncoderBlock(8, 2, 16)):
        with tf.GradientTape() as tape:
            loss = keras.ops.sum(keras.ops.square(block(x, training=True) - 0.5 * x))
        grads = tape.gradient(loss, block.trainable_variables)
        missing = [
            v.path
            for v, g in zip(block.trainable_variables, grads, strict=True)
            if g is None or not np.any(_np(g))
        ]
        assert not missing, missing
    decoder = TransformerDecoderBlock(8, 2, 16)
    targets, source = _sequence(length=5, seed=1), _sequence(length=7, seed=2)
    with tf.GradientTape() as tape:
        loss = keras.ops.sum(keras.ops.square(decoder([targets, source], training=True)))
    grads = tape.gradient(loss, decoder.trainable_variables)
    assert all(g is not None and np.any(_np(g)) for g in grads)


@pytest.mark.parametrize(
    "make, argument",
    [
        (lambda: TransformerEncoderBlock(8, 3, 16), "num_heads"),
        (lambda: TransformerDecoderBlock(8, 2, 16, dropout=1.0), "dropout"),
        (lambda: ConformerBlock(8, 2, kernel_size=6), "kernel_size"),
        (lambda: ConformerBlock(8, 2, kernel_size=-1), "kernel_size"),
        (lambda: TransformerEncoderBlock(8, 2, 16).build((2, 6, 4)), "units"),
        (lambda: TransformerDecoderBlock(8, 2, 16).build([(2, 5, 8), (2, 7, 6)]), "units"),
    ],
)
def test_bad_arguments(make, argument):
    with pytest.raises(ValueError, match=argument):
        make()
