"""Transformer encoder and decoder blocks, and the Conformer block.

ML2021 L12, Transformer (and homework 4, Conformer). The blocks are built from the course's own
``MultiHeadSelfAttention`` (``mlcourse.layers.attention``); each sub-layer is wrapped in a residual
connection and a layer normalisation, either after the residual (post-norm, the original paper and
the lecture's figure) or before the sub-layer (pre-norm, "On Layer Normalization in the Transformer
Architecture", which the lecture cites as the better order)::

    post-norm:  x ← LayerNorm(x + Sublayer(x))
    pre-norm:   x ← x + Sublayer(LayerNorm(x))

The feed-forward sub-layer is position-wise: ``FFN(x) = W_2 relu(W_1 x + b_1) + b_2``.
"""

import keras
from keras import ops

from mlcourse.layers.attention import MultiHeadSelfAttention
from mlcourse.layers.inputs import check_batch, check_mask, input_spec
from mlcourse.validation import check_bool, check_positive_int, check_unit_interval

__all__ = ["ConformerBlock", "TransformerDecoderBlock", "TransformerEncoderBlock"]


def _check_heads(units, num_heads):
    check_positive_int("units", units)
    check_positive_int("num_heads", num_heads)
    if units % num_heads:
        raise ValueError(f"num_heads must divide units: {units} % {num_heads} != 0")


def _check_width(input_shape, units, what="inputs"):
    if input_shape[-1] != units:
        raise ValueError(
            f"{what} must have units={units} features (for the residual), "
            f"got shape {tuple(input_shape)}"
        )


class _TransformerBlock(keras.layers.Layer):
    """What the encoder and decoder blocks share: their arguments, config, residual step and FFN."""

    def __init__(self, units, num_heads, ff_dim, dropout=0.0, norm_first=False, **kwargs):
        super().__init__(**kwargs)
        _check_heads(units, num_heads)
        self.units, self.num_heads = units, num_heads
        self.ff_dim = check_positive_int("ff_dim", ff_dim)
        self.dropout = check_unit_interval("dropout", dropout)
        self.norm_first = check_bool("norm_first", norm_first)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "num_heads": self.num_heads,
            "ff_dim": self.ff_dim,
            "dropout": self.dropout,
            "norm_first": self.norm_first,
        }

    def _residual(self, x, norm, sublayer):
        """``x + Sublayer(x)`` with the LayerNorm before (pre-norm) or after (post-norm)."""
        if self.norm_first:
            return x + sublayer(norm(x))
        return norm(x + sublayer(x))

    def _feed_forward(self, x, training):
        """``FFN(x) = W_2 relu(W_1 x + b_1) + b_2``, dropout on the result."""
        return self._ff_dropout(self._ff_out(self._ff_hidden(x)), training=training)


def _dense_pair(ff_dim, units, policy, activation="relu", prefix="ff"):
    return (
        keras.layers.Dense(ff_dim, activation=activation, dtype=policy, name=f"{prefix}_hidden"),
        keras.layers.Dense(units, dtype=policy, name=f"{prefix}_out"),
    )


def _layer_norm(policy, name):
    return keras.layers.LayerNormalization(epsilon=1e-5, dtype=policy, name=name)


@keras.saving.register_keras_serializable(package="mlcourse")
class TransformerEncoderBlock(_TransformerBlock):
    """One Transformer encoder block: self-attention then feed-forward, each with residual +
    LayerNorm.

    ML2021 L12, Transformer encoder::

        h = Norm(x + Dropout(MHSA(x)))          (post-norm; pre-norm: h = x +
        Dropout(MHSA(Norm(x)))) y = Norm(h + Dropout(FFN(h)))           (pre-norm:  y = h +
        Dropout(FFN(Norm(h))))

    Args:
        units: the width ``d_model`` of the inputs and outputs.
        num_heads: attention heads; must divide ``units``.
        ff_dim: the hidden width of the feed-forward network.
        dropout: a float in [0, 1): on the attention weights and on each sub-layer's output.
        norm_first: True for pre-norm, False (default) for post-norm.

    Call arguments:
        inputs: ``(batch, T, units)``.
        mask: optional ``(batch, T)`` boolean padding mask (padding tokens are hidden as keys).
        return_attention_scores: also return the attention weights ``(batch, heads, T, T)``.
        training: whether dropout is active.

    Returns:
        ``(batch, T, units)`` (and the attention weights if asked).
    """

    def __init__(self, units, num_heads, ff_dim, dropout=0.0, norm_first=False, **kwargs):
        super().__init__(units, num_heads, ff_dim, dropout, norm_first, **kwargs)
        policy = self.dtype_policy
        self.attention = MultiHeadSelfAttention(
            units,
            num_heads,
            output_dim=units,
            dropout=dropout,
            dtype=policy,
            name="self_attention",
        )
        self._attention_dropout = keras.layers.Dropout(dropout, dtype=policy)
        self.attention_norm = _layer_norm(policy, "attention_norm")
        self._ff_hidden, self._ff_out = _dense_pair(ff_dim, units, policy)
        self._ff_dropout = keras.layers.Dropout(dropout, dtype=policy)
        self.ff_norm = _layer_norm(policy, "ff_norm")
        self.supports_masking = True

    def build(self, input_shape):
        _check_width(input_shape, self.units)
        self.input_spec = input_spec(input_shape, ndim=3)
        for layer in (self.attention, self.attention_norm, self.ff_norm, self._ff_hidden):
            layer.build(input_shape)
        self._ff_out.build(tuple(input_shape[:-1]) + (self.ff_dim,))

    def call(self, inputs, mask=None, return_attention_scores=False, training=None):
        weights = []

        def attend(x):
            out, scores = self.attention(
                x, mask=mask, return_attention_scores=True, training=training
            )
            weights.append(scores)
            return self._attention_dropout(out, training=training)

        hidden = self._residual(inputs, self.attention_norm, attend)
        outputs = self._residual(hidden, self.ff_norm, lambda x: self._feed_forward(x, training))
        return (outputs, weights[0]) if return_attention_scores else outputs

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


@keras.saving.register_keras_serializable(package="mlcourse")
class TransformerDecoderBlock(_TransformerBlock):
    """One Transformer decoder block: masked self-attention, cross-attention, feed-forward.

    ML2021 L12, Transformer decoder. With targets ``y`` (shifted right) and encoder outputs ``e``::

        h = Norm(y + Dropout(MaskedMHSA(y)))              position i sees targets j <= i only
        c = Norm(h + Dropout(CrossAttention(h, e)))       queries from the decoder, keys/values from
        e o = Norm(c + Dropout(FFN(c)))

    (pre-norm moves each ``Norm`` inside the residual as in ``TransformerEncoderBlock``).
    The masked self-attention is mlcourse's ``MultiHeadSelfAttention(causal=True)``. That layer is
    self-attention only (queries, keys and values from one sequence), so the cross-attention is
    ``keras.layers.MultiHeadAttention`` (the same maths with separate query and key/value inputs).

    Args:
        units: the width ``d_model`` of targets, encoder outputs and outputs.
        num_heads: attention heads (both attentions); must divide ``units``.
        ff_dim: the hidden width of the feed-forward network.
        dropout: a float in [0, 1): on the attention weights and on each sub-layer's output.
        norm_first: True for pre-norm, False (default) for post-norm.

    Call arguments:
        inputs: ``[targets, encoder_outputs]``, ``(batch, T_y, units)`` and ``(batch, T_x, units)``.
        mask: optional ``[target_mask, source_mask]`` boolean padding masks (either may be None).
        return_attention_scores: also return the cross-attention weights
            ``(batch, heads, T_y, T_x)``.
        training: whether dropout is active.

    Returns:
        ``(batch, T_y, units)`` (and the cross-attention weights if asked).
    """

    def __init__(self, units, num_heads, ff_dim, dropout=0.0, norm_first=False, **kwargs):
        super().__init__(units, num_heads, ff_dim, dropout, norm_first, **kwargs)
        policy = self.dtype_policy
        self.self_attention = MultiHeadSelfAttention(
            units,
            num_heads,
            output_dim=units,
            causal=True,
            dropout=dropout,
            dtype=policy,
            name="self_attention",
        )
        self.cross_attention = keras.layers.MultiHeadAttention(
            num_heads,
            key_dim=units // num_heads,
            dropout=dropout,
            dtype=policy,
            name="cross_attention",
        )
        self._self_dropout = keras.layers.Dropout(dropout, dtype=policy)
        self._cross_dropout = keras.layers.Dropout(dropout, dtype=policy)
        self.self_attention_norm = _layer_norm(policy, "self_attention_norm")
        self.cross_attention_norm = _layer_norm(policy, "cross_attention_norm")
        self._ff_hidden, self._ff_out = _dense_pair(ff_dim, units, policy)
        self._ff_dropout = keras.layers.Dropout(dropout, dtype=policy)
        self.ff_norm = _layer_norm(policy, "ff_norm")

    def build(self, input_shape):
        target_shape, source_shape = (tuple(s) for s in input_shape)
        _check_width(target_shape, self.units, "targets")
        _check_width(source_shape, self.units, "encoder outputs")
        self.input_spec = [input_spec(target_shape, ndim=3), input_spec(source_shape, ndim=3)]
        self.self_attention.build(target_shape)
        self.cross_attention.build(target_shape, source_shape)
        for layer in (
            self.self_attention_norm,
            self.cross_attention_norm,
            self.ff_norm,
            self._ff_hidden,
        ):
            layer.build(target_shape)
        self._ff_out.build(target_shape[:-1] + (self.ff_dim,))

    def call(self, inputs, mask=None, return_attention_scores=False, training=None):
        targets, source = inputs
        target_mask, source_mask = mask if mask is not None else (None, None)
        check_mask(self, inputs[0], target_mask)
        check_mask(self, inputs[1], source_mask)
        cross_mask = None
        if source_mask is not None:  # (batch, T_y, T_x): every query may see the real source tokens
            cross_mask = ops.logical_and(
                ops.ones_like(targets[..., :1], dtype="bool"),
                ops.cast(source_mask, "bool")[:, None, :],
            )
        weights = []

        def self_attend(x):
            out = self.self_attention(x, mask=target_mask, training=training)
            return self._self_dropout(out, training=training)

        def cross_attend(x):
            out, scores = self.cross_attention(
                x,
                source,
                attention_mask=cross_mask,
                return_attention_scores=True,
                training=training,
            )
            weights.append(scores)
            return self._cross_dropout(out, training=training)

        hidden = self._residual(targets, self.self_attention_norm, self_attend)
        hidden = self._residual(hidden, self.cross_attention_norm, cross_attend)
        outputs = self._residual(hidden, self.ff_norm, lambda x: self._feed_forward(x, training))
        return (outputs, weights[0]) if return_attention_scores else outputs

    def compute_mask(self, inputs, mask=None):
        return None if mask is None else mask[0]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])


@keras.saving.register_keras_serializable(package="mlcourse")
class ConformerBlock(keras.layers.Layer):
    """One Conformer block (Gulati et al. 2020): a Transformer block with a convolution module.

    ML2021 L12 / homework 4, Conformer. A "macaron" of two half-step feed-forward modules around
    self-attention and a convolution module, all pre-norm residuals, then a final LayerNorm::

        x ← x + ½ FFN(x)                 FFN(x) = W_2 Dropout(swish(W_1 Norm(x))), then Dropout
        x ← x + Dropout(MHSA(Norm(x)))
        x ← x + Conv(x)                  Conv(x) = Dropout(PW_2 swish(BN(DW(GLU(PW_1 Norm(x))))))
        x ← x + ½ FFN'(x)
        y = Norm(x)

    ``PW`` are pointwise (1×1) convolutions (``PW_1`` doubles the width for the gated linear unit
    ``GLU(a, b) = a ⊙ σ(b)``), ``DW`` a depthwise convolution over time with ``kernel_size`` taps
    (same padding), ``BN`` batch normalisation. The attention is mlcourse's
    ``MultiHeadSelfAttention``.

    Args:
        units: the width of inputs and outputs.
        num_heads: attention heads; must divide ``units``.
        kernel_size: taps of the depthwise convolution, an odd integer >= 1 (so "same" is centred).
        ff_expansion: the feed-forward hidden width is ``ff_expansion × units``.
        dropout: a float in [0, 1): on the attention weights and each module's output.

    Call arguments:
        inputs: ``(batch, T, units)``.
        mask: optional ``(batch, T)`` boolean padding mask (padding tokens are hidden as keys; note
            that the convolution still mixes them in, as in the paper's reference code).
        training: whether dropout is active and batch normalisation uses batch statistics.

    Returns:
        ``(batch, T, units)``.
    """

    def __init__(self, units, num_heads, kernel_size=15, ff_expansion=4, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        _check_heads(units, num_heads)
        self.units, self.num_heads = units, num_heads
        check_positive_int("kernel_size", kernel_size)
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be an odd integer >= 1, got {kernel_size!r}")
        self.kernel_size = kernel_size
        self.ff_expansion = check_positive_int("ff_expansion", ff_expansion)
        self.dropout = check_unit_interval("dropout", dropout)
        policy = self.dtype_policy
        hidden = ff_expansion * units
        self.ff1_norm, self.ff2_norm = (
            _layer_norm(policy, "ff1_norm"),
            _layer_norm(policy, "ff2_norm"),
        )
        self.ff1_hidden, self.ff1_out = _dense_pair(hidden, units, policy, "swish", prefix="ff1")
        self.ff2_hidden, self.ff2_out = _dense_pair(hidden, units, policy, "swish", prefix="ff2")
        self.attention_norm = _layer_norm(policy, "attention_norm")
        self.attention = MultiHeadSelfAttention(
            units,
            num_heads,
            output_dim=units,
            dropout=dropout,
            dtype=policy,
            name="self_attention",
        )
        self.conv_norm = _layer_norm(policy, "conv_norm")
        self.pointwise_in = keras.layers.Conv1D(2 * units, 1, dtype=policy, name="pointwise_in")
        self.depthwise = keras.layers.DepthwiseConv1D(
            kernel_size, padding="same", dtype=policy, name="depthwise"
        )
        self.batch_norm = keras.layers.BatchNormalization(dtype=policy, name="batch_norm")
        self.pointwise_out = keras.layers.Conv1D(units, 1, dtype=policy, name="pointwise_out")
        self.final_norm = _layer_norm(policy, "final_norm")
        self._dropout = keras.layers.Dropout(dropout, dtype=policy)
        self.supports_masking = True

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        _check_width(input_shape, self.units)
        self.input_spec = input_spec(input_shape, ndim=3)
        hidden_shape = input_shape[:-1] + (self.ff_expansion * self.units,)
        for norm in (
            self.ff1_norm,
            self.ff2_norm,
            self.attention_norm,
            self.conv_norm,
            self.final_norm,
        ):
            norm.build(input_shape)
        for first, second in ((self.ff1_hidden, self.ff1_out), (self.ff2_hidden, self.ff2_out)):
            first.build(input_shape)
            second.build(hidden_shape)
        self.attention.build(input_shape)
        self.pointwise_in.build(input_shape)
        for layer in (self.depthwise, self.batch_norm, self.pointwise_out):
            layer.build(input_shape)

    def _half_feed_forward(self, x, norm, first, second, training):
        hidden = self._dropout(first(norm(x)), training=training)
        return ops.cast(0.5, x.dtype) * self._dropout(second(hidden), training=training)

    def _convolution(self, x, training):
        gated = ops.glu(self.pointwise_in(self.conv_norm(x)), axis=-1)  # a ⊙ σ(b)
        hidden = ops.swish(self.batch_norm(self.depthwise(gated), training=training))
        return self._dropout(self.pointwise_out(hidden), training=training)

    def call(self, inputs, mask=None, training=None):
        check_batch(self, inputs)
        check_mask(self, inputs, mask)
        x = inputs + self._half_feed_forward(
            inputs, self.ff1_norm, self.ff1_hidden, self.ff1_out, training
        )
        attended = self.attention(self.attention_norm(x), mask=mask, training=training)
        x = x + self._dropout(attended, training=training)
        x = x + self._convolution(x, training)
        x = x + self._half_feed_forward(x, self.ff2_norm, self.ff2_hidden, self.ff2_out, training)
        return self.final_norm(x)

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "num_heads": self.num_heads,
            "kernel_size": self.kernel_size,
            "ff_expansion": self.ff_expansion,
            "dropout": self.dropout,
        }
