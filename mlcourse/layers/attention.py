"""Self-attention from scratch: one head, many heads, and a distance-decayed variant.

ML2021 L10-11, self-attention. For a sequence of vectors ``a^1 … a^T``::

    q^i = W^q a^i        k^j = W^k a^j        v^j = W^v a^j
    α_{i,j} = score(q^i, k^j)                 (dot, scaled dot, or additive)
    α'_{i,j} = softmax_j(α_{i,j} + mask_{i,j}) (mask is 0 where j is visible to i, −∞ where not)
    b^i = Σ_j α'_{i,j} v^j

Masks: padding (the keys that are padding are invisible), causal (``j > i`` invisible) and a
truncated window (``|i − j| > window`` invisible; the lecture's truncated self-attention).

Subclass and override ``score(query, key)`` to try another similarity rule; everything else
(masks, softmax, ``Σ α v``, returning the attention weights) stays the same::

    class CosineAttention(SelfAttention):
        def score(self, query, key):
            query = query / keras.ops.norm(query, axis=-1, keepdims=True)
            key = key / keras.ops.norm(key, axis=-1, keepdims=True)
            return 10.0 * keras.ops.einsum("...id,...jd->...ij", query, key)
"""

import math

import keras
from keras import ops

from mlcourse.layers.inputs import check_mask, input_spec
from mlcourse.validation import (
    MAX_SIZE,
    check_bool,
    check_choice,
    check_non_negative_int,
    check_positive,
    check_positive_int,
    check_unit_interval,
)

__all__ = [
    "SCORES",
    "AttentionLayer",
    "DistanceDecayAttention",
    "MultiHeadSelfAttention",
    "SelfAttention",
    "attention_mask_of",
    "check_sequence_shape",
    "collapse_two_stage_heads",
    "mask_value",
]

#: The built-in score rules.
SCORES = ("dot", "scaled_dot", "additive")
DECAYS = ("exponential", "alibi")


# ---------------------------------------------------------------------------------------------
# Argument checks (each error names the argument and what is allowed).


def _check_optional_size(name, value):
    return None if value is None else check_positive_int(name, value, high=MAX_SIZE)


def check_sequence_shape(layer, input_shape):
    """A ``(batch, T, features)`` input with a known feature size, else a ValueError naming
    ``inputs`` (as Keras's own layers check in ``build``)."""
    if len(input_shape) != 3 or input_shape[-1] is None:
        raise ValueError(
            f"{layer.__class__.__name__} expects inputs of shape (batch, T, features) with a known "
            f"feature size, got input_shape={tuple(input_shape)}"
        )


def _check_window(window):
    if window is None:
        return None
    try:
        return check_non_negative_int("window", window, high=MAX_SIZE)
    except ValueError:
        raise ValueError(
            f"window must be None (no truncation) or an integer >= 0, got {window!r}"
        ) from None


# ---------------------------------------------------------------------------------------------
# Masks and the shared attention step.


def attention_mask_of(length, padding_mask=None, causal=False, window=None):
    """Which key positions each query may see: a boolean ``(…, length, length)`` tensor or ``None``.

    ``visible[i, j]`` is True when position ``i`` may attend to position ``j``:

    * padding: ``padding_mask[b, j]`` (False marks a padding token, as Keras masks do);
    * causal: ``j <= i``;
    * window: ``|i − j| <= window`` (truncated self-attention).

    Args:
        length: the sequence length ``T`` (an int or a scalar tensor).
        padding_mask: optional ``(batch, T)`` boolean tensor, True for real tokens.
        causal: whether to hide the future.
        window: optional non-negative int, the half width of the visible band.

    Returns:
        ``None`` if nothing is hidden, else a boolean tensor of shape ``(T, T)`` or
        ``(batch, 1, T)`` / ``(batch, T, T)`` that broadcasts against ``(batch, T, T)`` scores.
    """
    visible = None
    if causal or window is not None:
        positions = ops.arange(length)
        offset = positions[None, :] - positions[:, None]  # j − i
        band = ops.ones_like(offset, dtype="bool")
        if causal:
            band = ops.logical_and(band, offset <= 0)
        if window is not None:
            band = ops.logical_and(band, ops.abs(offset) <= window)
        visible = band
    if padding_mask is not None:
        keys = ops.cast(padding_mask, "bool")[:, None, :]  # (batch, 1, T)
        visible = keys if visible is None else ops.logical_and(keys, visible[None])
    return visible


def mask_value(dtype):
    """The score given to hidden positions: very negative but finite (as ``keras.layers.Softmax``
    does), so a fully hidden row gives no NaN."""
    return -3e4 if keras.backend.standardize_dtype(dtype) == "float16" else -1e9


def _dot(query, key):
    """α_{i,j} = q^i · k^j for any leading dims ``(…, T, d)``."""
    return ops.matmul(query, ops.swapaxes(key, -1, -2))


class AttentionLayer(keras.layers.Layer):
    """The base of every attention layer here: the arguments they share, with their checks and
    config, and the attention step itself::

        α_{i,j} = score(q^i, k^j);  α' = softmax_j(α | visible);  b^i = Σ_j α'_{i,j} v^j

    A subclass builds its own projections and calls
    ``self.attend(query, key, value, visible, training)``;
    ``self.visible(inputs, mask, attention_mask)`` gives the mask of padding, the causal rule and
    the truncation window. Override ``score(query, key)`` to try another rule. A subclass that fixes
    some of these arguments lists the ones it takes in ``shared_arguments``: ``get_config`` returns
    exactly those.

    Args:
        score: ``"dot"``, ``"scaled_dot"`` or ``"additive"`` (a learned vector ``w``, built by the
            subclass as ``self.score_vector``).
        causal: if True position ``i`` only sees ``j <= i``.
        window: None, or the half width ``k`` of truncated attention (``|i − j| <= k``).
        use_bias: whether the projections have biases.
        dropout: dropout rate on the attention weights (training only), in ``[0, 1)``.
        kernel_initializer, bias_initializer: for the projections.
    """

    #: The arguments of this base that the subclass's constructor takes (and ``get_config`` gives).
    shared_arguments = (
        "score",
        "causal",
        "window",
        "use_bias",
        "dropout",
        "kernel_initializer",
        "bias_initializer",
    )

    def __init__(
        self,
        score="scaled_dot",
        causal=False,
        window=None,
        use_bias=True,
        dropout=0.0,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.score_mode = check_choice("score", score, SCORES)
        self.causal = check_bool("causal", causal)
        self.window = _check_window(window)
        self.use_bias = check_bool("use_bias", use_bias)
        self.dropout = check_unit_interval("dropout", dropout)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.score_vector = None
        self._dropout_layer = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)
        self.supports_masking = True

    def score(self, query, key):
        """The unnormalised attention scores α_{i,j}; override to try your own rule.

        Args:
            query: ``(batch, [heads,] T_q, d)``.
            key: ``(batch, [heads,] T_k, d)``.

        Returns:
            ``(batch, [heads,] T_q, T_k)`` scores (before the mask and the softmax).
        """
        if self.score_mode == "dot":
            return _dot(query, key)
        if self.score_mode == "scaled_dot":  # scale q (T·d numbers) rather than the T·T scores
            return _dot(query * ops.cast(1.0 / math.sqrt(query.shape[-1]), query.dtype), key)
        # additive (Bahdanau): α_{i,j} = w · tanh(q^i + k^j)
        hidden = ops.tanh(ops.expand_dims(query, -2) + ops.expand_dims(key, -3))  # (…, T_q, T_k, d)
        vector = self.score_vector
        if len(vector.shape) == 2:  # one vector per head: (heads, d) -> (heads, 1, 1, d)
            vector = vector[:, None, None, :]
        return ops.sum(hidden * ops.cast(vector, self.compute_dtype), axis=-1)

    def attend(self, query, key, value, visible=None, training=None):
        """b^i = Σ_j softmax_j(score(q^i, k^j) | visible) v^j; returns ``(b, α')``."""
        scores = self.score(query, key)
        if visible is not None:
            while len(visible.shape) < len(scores.shape):  # add the heads axis
                visible = ops.expand_dims(visible, -3)
            scores = ops.where(visible, scores, ops.cast(mask_value(scores.dtype), scores.dtype))
        weights = ops.softmax(scores, axis=-1)
        dropped = self._dropout_layer(weights, training=training) if self.dropout else weights
        return ops.matmul(dropped, value), weights

    def visible(self, inputs, mask=None, attention_mask=None):
        """Which keys each query sees: padding ``mask``, causal, window and ``attention_mask``."""
        check_mask(self, inputs, mask)
        visible = attention_mask_of(
            ops.shape(inputs)[1], padding_mask=mask, causal=self.causal, window=self.window
        )
        if attention_mask is not None:
            extra = ops.cast(attention_mask, "bool")
            visible = extra if visible is None else ops.logical_and(visible, extra)
        return visible

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        shared = {
            "score": self.score_mode,
            "causal": self.causal,
            "window": self.window,
            "use_bias": self.use_bias,
            "dropout": self.dropout,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }
        return {**super().get_config(), **{k: shared[k] for k in self.shared_arguments}}


# ---------------------------------------------------------------------------------------------
# One head.


@keras.saving.register_keras_serializable(package="mlcourse")
class SelfAttention(AttentionLayer):
    """Single-head self-attention, as drawn in the lecture.

    ML2021 L10, self-attention: ``b^i = Σ_j softmax_j(score(W^q a^i, W^k a^j)) W^v a^j``.

    * ``score="dot"``: ``α_{i,j} = q^i · k^j``;
    * ``score="scaled_dot"``: ``q^i · k^j / √d`` (Transformer default; keeps the softmax from
      saturating when ``d`` is large);
    * ``score="additive"``: ``w · tanh(q^i + k^j)`` with a learned vector ``w``.

    Without positional information the layer is permutation-equivariant: permuting the input
    tokens permutes the outputs the same way.

    Args:
        units: size ``d`` of the query, key and value vectors (and of the output ``b^i``).
        score, causal, window, use_bias, dropout, kernel_initializer, bias_initializer: see
            ``AttentionLayer``.

    Call arguments:
        inputs: ``(batch, T, features)``.
        mask: optional ``(batch, T)`` boolean padding mask (passed on by
            ``Embedding(mask_zero=True)`` or ``Masking``); padding tokens are hidden as keys.
        attention_mask: optional boolean ``(batch, T, T)`` or ``(T, T)``: extra positions to hide.
        return_attention_scores: also return the attention weights α'.
        training: whether dropout is active.

    Returns:
        ``(batch, T, units)``, and with ``return_attention_scores=True`` also the weights
        ``(batch, T, T)`` (rows sum to 1).
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units, high=MAX_SIZE)

    def build(self, input_shape):
        check_sequence_shape(self, input_shape)
        self.input_spec = input_spec(input_shape)
        features = input_shape[-1]
        for name in ("query", "key", "value"):
            kernel = self.add_weight(
                name=f"{name}_kernel",
                shape=(features, self.units),
                initializer=self.kernel_initializer,
            )
            bias = (
                self.add_weight(
                    name=f"{name}_bias", shape=(self.units,), initializer=self.bias_initializer
                )
                if self.use_bias
                else None
            )
            setattr(self, f"{name}_kernel", kernel)
            setattr(self, f"{name}_bias", bias)
        if self.score_mode == "additive":
            self.score_vector = self.add_weight(
                name="score_vector", shape=(self.units,), initializer=self.kernel_initializer
            )
        self._dropout_layer.build(tuple(input_shape[:-1]) + (input_shape[-2],))

    def project(self, inputs, name):
        """``inputs @ W^name + b^name`` for ``name`` in query, key, value."""
        out = ops.matmul(inputs, getattr(self, f"{name}_kernel"))
        bias = getattr(self, f"{name}_bias")
        return out if bias is None else out + bias

    def call(
        self, inputs, mask=None, attention_mask=None, return_attention_scores=False, training=None
    ):
        query, key, value = (self.project(inputs, name) for name in ("query", "key", "value"))
        outputs, weights = self.attend(
            query, key, value, self.visible(inputs, mask, attention_mask), training
        )
        return (outputs, weights) if return_attention_scores else outputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


# ---------------------------------------------------------------------------------------------
# Many heads.


@keras.saving.register_keras_serializable(package="mlcourse")
class MultiHeadSelfAttention(AttentionLayer):
    """Multi-head self-attention, weight-compatible with ``keras.layers.MultiHeadAttention``.

    ML2021 L11, multi-head self-attention. Head ``h`` has its own projections, attends on its own,
    and an output matrix mixes the heads back to the model width::

        q^{i,h} = W^{q,h} a^i   k^{j,h} = W^{k,h} a^j   v^{j,h} = W^{v,h} a^j        (d = units /
        heads) b^{i,h} = Σ_j softmax_j(score(q^{i,h}, k^{j,h})) v^{j,h}
        b^i = Σ_h W^{o,h} b^{i,h} + bias

    The weights have the shapes and the order of
    ``keras.layers.MultiHeadAttention(num_heads, key_dim=units // num_heads)`` used as
    self-attention (query kernel ``(features, heads, d)``, bias ``(heads, d)``, then key, value, and
    the output kernel ``(heads, d, out)``, bias ``(out,)``), so
    ``layer.set_weights(keras_mha.get_weights())`` makes both compute the same function (with
    ``score="scaled_dot"``).

    Args:
        units: total width of the queries (``heads × d``); must be divisible by ``num_heads``.
        num_heads: the number of heads.
        output_dim: width of the output; by default the input width (as in Keras).
        score, causal, window, use_bias, dropout, kernel_initializer, bias_initializer: see
            ``AttentionLayer`` (``"additive"`` learns one ``w`` per head).

    Call arguments:
        inputs: ``(batch, T, features)``.
        mask: optional ``(batch, T)`` boolean padding mask; padding tokens are hidden as keys.
        attention_mask: optional boolean ``(batch, T, T)`` or ``(T, T)``: extra positions to hide.
        return_attention_scores: also return the attention weights.
        training: whether dropout is active.

    Returns:
        ``(batch, T, output_dim)``, and with ``return_attention_scores=True`` also the weights
        ``(batch, heads, T, T)`` (the layout of Keras's ``MultiHeadAttention``).
    """

    def __init__(self, units, num_heads, output_dim=None, **kwargs):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units, high=MAX_SIZE)
        self.num_heads = check_positive_int("num_heads", num_heads, high=MAX_SIZE)
        if units % num_heads:
            raise ValueError(
                f"num_heads must divide units (the model width): {units} % {num_heads} != 0"
            )
        self.head_dim = units // num_heads
        self.output_dim = _check_optional_size("output_dim", output_dim)

    def _weight(self, name, shape, initializer):
        return self.add_weight(name=name, shape=shape, initializer=initializer)

    def build(self, input_shape):
        check_sequence_shape(self, input_shape)
        self.input_spec = input_spec(input_shape)
        features = input_shape[-1]
        out = self.output_dim or features
        heads, depth = self.num_heads, self.head_dim
        for name in ("query", "key", "value"):  # the order of keras.layers.MultiHeadAttention
            kernel = self._weight(
                f"{name}_kernel", (features, heads, depth), self.kernel_initializer
            )
            bias = (
                self._weight(f"{name}_bias", (heads, depth), self.bias_initializer)
                if self.use_bias
                else None
            )
            setattr(self, f"{name}_kernel", kernel)
            setattr(self, f"{name}_bias", bias)
        self.output_kernel = self._weight(
            "output_kernel", (heads, depth, out), self.kernel_initializer
        )
        self.output_bias = (
            self._weight("output_bias", (out,), self.bias_initializer) if self.use_bias else None
        )
        if self.score_mode == "additive":
            self.score_vector = self._weight(
                "score_vector", (heads, depth), self.kernel_initializer
            )
        self._dropout_layer.build((None, heads, None, None))

    def project(self, inputs, name):
        """``(batch, T, features)`` → ``(batch, heads, T, d)`` through ``W^{name,h}``."""
        out = ops.einsum("btf,fhd->bhtd", inputs, getattr(self, f"{name}_kernel"))
        bias = getattr(self, f"{name}_bias")
        return out if bias is None else out + bias[None, :, None, :]

    def merge(self, per_head):
        """``(batch, heads, T, d)`` → ``(batch, T, output_dim)`` through ``W^o``."""
        out = ops.einsum("bhtd,hdo->bto", per_head, self.output_kernel)
        return out if self.output_bias is None else out + self.output_bias

    def call(
        self, inputs, mask=None, attention_mask=None, return_attention_scores=False, training=None
    ):
        query, key, value = (self.project(inputs, name) for name in ("query", "key", "value"))
        per_head, weights = self.attend(
            query, key, value, self.visible(inputs, mask, attention_mask), training
        )
        outputs = self.merge(per_head)
        return (outputs, weights) if return_attention_scores else outputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.output_dim or input_shape[-1],)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "num_heads": self.num_heads,
            "output_dim": self.output_dim,
        }


# ---------------------------------------------------------------------------------------------
# The student's idea: let the score decay with distance.


def _alibi_slopes(num_heads):
    """ALiBi's head slopes ``m_h = 2^(−8h/H)``, h = 1 … H (Press et al. 2022)."""
    return [2.0 ** (-8.0 * (h + 1) / num_heads) for h in range(num_heads)]


@keras.saving.register_keras_serializable(package="mlcourse")
class DistanceDecayAttention(MultiHeadSelfAttention):
    """Multi-head self-attention whose scores fade with the distance between positions.

    ML2021 L11, the student's TODO in the notes ("q^i k^{i'} e^{−|i−i'|}"). With ``D_{i,j}`` the
    distance between positions ``i`` and ``j``:

    * ``decay="exponential"``: ``α_{i,j} = score(q^i, k^j) · e^{−D_{i,j}/τ_h}``, one learnable
      ``τ_h > 0`` per head (stored as ``log τ``). Note that this pulls far scores towards 0, not
      towards −∞: far tokens become "neutral", not invisible.
    * ``decay="alibi"``: ``α_{i,j} = score(q^i, k^j) − m_h D_{i,j}`` (ALiBi), slopes
      ``m_h = 2^{−8h/H}`` at the start, learnable (stored as ``log m``).

    Only relative distance enters, never the absolute position (the notes' own caveat).
    Sequences ``(batch, T, features)`` use ``D_{i,j} = |i − j|``; images ``(batch, H, W, C)`` are
    attended pixel to pixel with the Euclidean pixel distance
    ``D = √((r_i − r_j)² + (c_i − c_j)²)`` and give ``(batch, H, W, output_dim)``.

    Args:
        units, num_heads, output_dim, score, causal, window, use_bias, dropout,
        kernel_initializer, bias_initializer: as in ``MultiHeadSelfAttention``.
        decay: ``"exponential"`` or ``"alibi"``.
        tau: the starting decay length τ (exponential), a positive float.
        trainable_decay: whether τ (or the ALiBi slopes) are learned.

    Call arguments:
        inputs: ``(batch, T, features)`` or ``(batch, H, W, channels)``.
        mask, attention_mask, return_attention_scores, training: as in ``MultiHeadSelfAttention``
            (for images the masks are over the ``H·W`` flattened pixels, row-major).

    Returns:
        ``(batch, T, output_dim)`` or ``(batch, H, W, output_dim)``; with
        ``return_attention_scores=True`` also the weights ``(batch, heads, T, T)``.
    """

    def __init__(
        self, units, num_heads=1, decay="exponential", tau=4.0, trainable_decay=True, **kwargs
    ):
        super().__init__(units, num_heads, **kwargs)
        self.decay = check_choice("decay", decay, DECAYS)
        self.tau = check_positive("tau", tau)
        self.trainable_decay = check_bool("trainable_decay", trainable_decay)

    def build(self, input_shape):
        self._grid = tuple(input_shape[1:3]) if len(input_shape) == 4 else None
        if self._grid is not None and None in self._grid:
            raise ValueError(
                f"image inputs need a static height and width, got input_shape={input_shape}"
            )
        sequence_shape = (input_shape[0], None, input_shape[-1])
        super().build(sequence_shape)
        self.input_spec = input_spec(input_shape, min_ndim=3, max_ndim=4)  # sequences or images
        if self.decay == "exponential":
            start = [math.log(self.tau)] * self.num_heads
        else:
            start = [math.log(m) for m in _alibi_slopes(self.num_heads)]
        self.log_decay = self.add_weight(
            name="log_decay",
            shape=(self.num_heads,),
            trainable=self.trainable_decay,
            initializer=keras.initializers.Constant(start),
        )

    def distances(self, length):
        """``(T, T)`` distances between positions (pixels for image inputs),
        in the compute dtype.
        """
        if self._grid is None:
            positions = ops.cast(ops.arange(length), "float32")
            distance = ops.abs(positions[:, None] - positions[None, :])
        else:
            rows, cols = ops.meshgrid(
                ops.arange(self._grid[0]), ops.arange(self._grid[1]), indexing="ij"
            )
            coords = ops.cast(
                ops.stack([ops.reshape(rows, (-1,)), ops.reshape(cols, (-1,))], axis=-1), "float32"
            )
            distance = ops.sqrt(
                ops.sum(ops.square(coords[:, None, :] - coords[None, :, :]), axis=-1)
            )
        return ops.cast(distance, self.compute_dtype)

    def score(self, query, key):
        base = super().score(query, key)  # (batch, heads, T, T)
        distance = self.distances(ops.shape(query)[-2])[None, None]
        rate = ops.cast(ops.exp(self.log_decay), self.compute_dtype)[None, :, None, None]
        if self.decay == "exponential":  # rate = τ
            return base * ops.exp(-distance / rate)
        return base - rate * distance  # rate = m (ALiBi)

    def call(
        self, inputs, mask=None, attention_mask=None, return_attention_scores=False, training=None
    ):
        if self._grid is None:
            return super().call(inputs, mask, attention_mask, return_attention_scores, training)
        batch, height, width = ops.shape(inputs)[0], self._grid[0], self._grid[1]
        pixels = ops.reshape(inputs, (batch, height * width, ops.shape(inputs)[-1]))
        outputs = super().call(pixels, mask, attention_mask, return_attention_scores, training)
        image, weights = outputs if return_attention_scores else (outputs, None)
        image = ops.reshape(image, (batch, height, width, ops.shape(image)[-1]))
        return (image, weights) if return_attention_scores else image

    def get_config(self):
        return {
            **super().get_config(),
            "decay": self.decay,
            "tau": self.tau,
            "trainable_decay": self.trainable_decay,
        }


# ---------------------------------------------------------------------------------------------
# The student's question on multi-head: two projections in a row are one projection.


def collapse_two_stage_heads(shared_kernel, head_kernels):
    """Fold the lecture's two-stage head projections into one matrix per head.

    ML2021 L11, multi-head self-attention. The lecture computes ``q^i = W^q a`` and then
    ``q^{i,h} = W^{q,h} q^i``. A product of linear maps is a linear map:
    ``q^{i,h} = (W^{q,h} W^q) a``, so ``W^{q,h} W^q`` is one ``(features, d)`` matrix per head —
    the same functions with fewer parameters (``features·units + units·units`` against
    ``features·units``), which is what ``MultiHeadSelfAttention`` stores.

    Args:
        shared_kernel: ``W^q`` as a ``(features, width)`` array (row-vector convention: ``a @ W``).
        head_kernels: the per-head ``W^{q,h}``, a ``(heads, width, d)`` array.

    Returns:
        the collapsed kernel ``(features, heads, d)``, in ``MultiHeadSelfAttention``'s layout.
    """
    return ops.einsum("fw,hwd->fhd", shared_kernel, head_kernels)
