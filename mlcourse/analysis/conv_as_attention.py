"""A convolution rewritten as multi-head self-attention (Cordonnier et al. 2020).

ML2021 L11, "CNN is a special case of self-attention". A ``K×K`` convolution with stride 1 and
``padding="same"`` computes, at pixel ``i``::

    y_i = Σ_{a,b} W[a, b]ᵀ x_{i + Δ_{ab}} + c        Δ_{ab} = (a − p, b − p),  p = (K − 1)/2

Multi-head self-attention with ``K²`` heads computes
``y_i = Σ_h W^{o,h} Σ_j A^h_{ij} W^{v,h} x_j + c``. Choose head ``h = (a, b)`` to attend only to the
pixel ``i + Δ_{ab}`` (``A^h_{ij} = 1`` there, 0 elsewhere), its value matrix ``W^{v,h} = W[a, b]``
and ``W^{o,h} = I``: the two sums become the same. The one-hot ``A^h`` comes from relative-position
scores ``−α ‖(p_j − p_i) − Δ_h‖²`` with zero content scores (``W^q = W^k = 0``) and a large ``α`` —
see ``mlcourse.layers.RelativePositionConvAttention``.
"""

import keras
import numpy as np

from mlcourse.layers.image_attention import RelativePositionConvAttention

__all__ = ["conv_as_attention"]


def _check_convertible(conv):
    if not isinstance(conv, keras.layers.Conv2D) or not conv.built:
        raise ValueError(f"conv must be a built keras.layers.Conv2D, got {conv!r}")
    kernel_size = tuple(conv.kernel_size)
    rules = {
        "kernel_size": (
            kernel_size[0] == kernel_size[1] and kernel_size[0] % 2 == 1,
            "a square, odd K×K kernel",
            kernel_size,
        ),
        "strides": (tuple(conv.strides) == (1, 1), "(1, 1)", conv.strides),
        "padding": (conv.padding == "same", "'same'", conv.padding),
        "dilation_rate": (tuple(conv.dilation_rate) == (1, 1), "(1, 1)", conv.dilation_rate),
        "groups": (conv.groups == 1, "1", conv.groups),
        "data_format": (conv.data_format == "channels_last", "'channels_last'", conv.data_format),
        "activation": (
            conv.activation is keras.activations.linear,
            "None / 'linear'",
            conv.activation,
        ),
    }
    for name, (ok, allowed, got) in rules.items():
        if not ok:
            raise ValueError(
                f"conv {name} must be {allowed} to be rewritten as attention, got {got!r}"
            )


def conv_as_attention(conv, image_size, sharpness=50.0):
    """Build a ``RelativePositionConvAttention`` layer that computes the same function as ``conv``.

    Args:
        conv: a built ``keras.layers.Conv2D``: square odd ``K×K`` kernel, stride 1,
            ``padding="same"``, no dilation, no groups, linear activation, channels last.
        image_size: ``(H, W)`` of the images the attention layer will see (its positional scores
            are laid out for that grid).
        sharpness: ``α`` of the positional scores (larger = harder attention).

    Returns:
        a built ``RelativePositionConvAttention`` with ``K²`` heads whose output on
        ``(batch, H, W, C_in)`` inputs equals ``conv``'s (up to ``e^{−α}``-sized leakage).
    """
    _check_convertible(conv)
    kernel = keras.ops.convert_to_numpy(conv.kernel).astype("float32")  # (K, K, C_in, C_out)
    size, _, channels_in, channels_out = kernel.shape
    layer = RelativePositionConvAttention(
        size, head_dim=channels_out, output_dim=channels_out, sharpness=sharpness, use_bias=True
    )
    height, width = image_size
    layer.build((None, height, width, channels_in))
    heads = size * size
    for name in (
        "query_kernel",
        "key_kernel",
        "query_bias",
        "key_bias",
        "value_bias",
    ):  # flat content scores
        variable = getattr(layer.heads, name)
        variable.assign(np.zeros(variable.shape, "float32"))
    layer.heads.value_kernel.assign(
        np.transpose(kernel.reshape(heads, channels_in, channels_out), (1, 0, 2))
    )
    layer.heads.output_kernel.assign(
        np.broadcast_to(np.eye(channels_out, dtype="float32"), (heads, channels_out, channels_out))
    )
    bias = (
        keras.ops.convert_to_numpy(conv.bias)
        if conv.use_bias
        else np.zeros(channels_out, "float32")
    )
    layer.heads.output_bias.assign(bias.astype("float32"))
    return layer
