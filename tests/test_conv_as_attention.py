"""A convolution is multi-head self-attention with relative-position scores.

ML2021 L11, CNN as a special case of self-attention (Cordonnier et al. 2020).
"""

import keras
import numpy as np
import pytest

from mlcourse.analysis.conv_as_attention import conv_as_attention
from mlcourse.layers import RelativePositionConvAttention


def _random_conv(kernel_size, channels_in, channels_out, seed=0):
    conv = keras.layers.Conv2D(channels_out, kernel_size, padding="same")
    conv.build((None, 7, 9, channels_in))
    rng = np.random.default_rng(seed)
    conv.kernel.assign(rng.normal(size=conv.kernel.shape).astype("float32"))
    conv.bias.assign(rng.normal(size=conv.bias.shape).astype("float32"))
    return conv


@pytest.mark.parametrize(
    "kernel_size, channels_in, channels_out", [(3, 4, 5), (3, 1, 3), (5, 3, 2)]
)
def test_attention_reproduces_the_convolution(kernel_size, channels_in, channels_out):
    conv = _random_conv(kernel_size, channels_in, channels_out)
    x = np.random.default_rng(1).normal(size=(2, 7, 9, channels_in)).astype("float32")
    attention = conv_as_attention(conv, image_size=(7, 9))
    assert attention.num_heads == kernel_size**2
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(attention(x)),
        keras.ops.convert_to_numpy(conv(x)),
        atol=1e-4,
        rtol=0,
    )


def test_each_head_attends_to_one_shifted_pixel():
    conv = _random_conv(3, 2, 2)
    x = np.random.default_rng(2).normal(size=(1, 7, 9, 2)).astype("float32")
    _, weights = conv_as_attention(conv, image_size=(7, 9))(x, return_attention_scores=True)
    weights = keras.ops.convert_to_numpy(weights)  # (1, 9 heads, 63 pixels, 9·11 padded pixels)
    assert weights.shape == (1, 9, 63, 99)
    assert weights.max(-1).min() > 1 - 1e-6
    # head (a, b) of pixel (r, c) looks at padded pixel (r + a, c + b)
    pixel, head = 7 * 9 - 1, 0  # bottom-right pixel, shift (−1, −1)
    assert weights[0, head, pixel].argmax() == (6 + 0) * 11 + (8 + 0)


def test_soft_positional_attention_is_not_the_convolution():
    conv = _random_conv(3, 3, 3)
    x = np.random.default_rng(3).normal(size=(1, 7, 9, 3)).astype("float32")
    soft = conv_as_attention(conv, image_size=(7, 9), sharpness=0.5)
    assert (
        np.abs(keras.ops.convert_to_numpy(soft(x)) - keras.ops.convert_to_numpy(conv(x))).max()
        > 1e-2
    )


@pytest.mark.parametrize(
    "conv, argument",
    [
        (keras.layers.Conv2D(2, 3, strides=2, padding="same"), "strides"),
        (keras.layers.Conv2D(2, 3, padding="valid"), "padding"),
        (keras.layers.Conv2D(2, 2, padding="same"), "kernel_size"),
        (keras.layers.Conv2D(2, 3, padding="same", activation="relu"), "activation"),
        (keras.layers.Conv2D(2, 3, padding="same", dilation_rate=2), "dilation_rate"),
    ],
)
def test_unconvertible_convolutions_are_rejected(conv, argument):
    conv.build((None, 7, 9, 2))
    with pytest.raises(ValueError, match=argument):
        conv_as_attention(conv, image_size=(7, 9))


def test_an_unbuilt_convolution_is_rejected():
    with pytest.raises(ValueError, match="conv"):
        conv_as_attention(keras.layers.Conv2D(2, 3, padding="same"), image_size=(7, 9))


def test_learned_centres_move_the_attention():
    layer = RelativePositionConvAttention(3, head_dim=2, sharpness=50.0)
    x = np.random.default_rng(4).normal(size=(1, 4, 4, 2)).astype("float32")
    _, before = layer(x, return_attention_scores=True)
    layer.centers.assign(layer.centers + 1.0)  # every head looks one pixel further down-right
    _, after = layer(x, return_attention_scores=True)
    before, after = (keras.ops.convert_to_numpy(w)[0, :, 0].argmax(-1) for w in (before, after))
    np.testing.assert_array_equal(after, before + 6 + 1)  # padded grid is 6 wide
