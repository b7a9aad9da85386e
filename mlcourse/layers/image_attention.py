"""Self-attention over the pixels of an image, and the convolution it contains as a special case.

ML2021 L11, self-attention for images: treat each pixel's channel vector as one token of a
sequence of ``H·W`` tokens. Both layers here reuse the shared attention step of
``mlcourse.layers.attention`` (score, mask, softmax, ``Σ α v``); they differ in where the scores
come from:

* ``ImageSelfAttention`` (SAGAN, Zhang et al. 2018): content scores ``f(x_i)·g(x_j)``, a residual
  gate ``γ`` that starts at 0;
* ``RelativePositionConvAttention`` (Cordonnier et al. 2020): content scores plus relative-position
  scores sharp enough that each of the ``K²`` heads looks at one fixed shift — a ``K×K``
  convolution written as multi-head self-attention (build one from a ``Conv2D`` with
  ``mlcourse.analysis.conv_as_attention.conv_as_attention``).
"""

import keras
from keras import ops

from mlcourse.layers.attention import AttentionLayer, MultiHeadSelfAttention, mask_value
from mlcourse.layers.inputs import input_spec
from mlcourse.validation import MAX_SIZE, check_float, check_positive_int

__all__ = ["ImageSelfAttention", "RelativePositionConvAttention"]

#: The largest kernel written as attention (K² heads, each an (H·W)² score map).
MAX_KERNEL_SIZE = 15


def _check_image_shape(layer, input_shape):
    """Images ``(batch, height, width, channels)``; later calls must keep the channels."""
    if len(input_shape) != 4:
        raise ValueError(
            f"inputs must be images (batch, height, width, channels), got shape {input_shape}"
        )
    layer.input_spec = input_spec(input_shape)


@keras.saving.register_keras_serializable(package="mlcourse")
class ImageSelfAttention(AttentionLayer):
    """SAGAN self-attention block: every pixel attends to every pixel, behind a gate that starts
    shut.

    ML2021 L11, self-attention for images (Zhang et al. 2018, "Self-Attention Generative
    Adversarial Networks"). With ``x_i ∈ R^C`` the pixel ``i`` of ``N = H·W`` pixels, and 1×1
    convolutions (= one matrix applied to every pixel)::

        f(x) = W_f x,  g(x) = W_g x   ∈ R^{C/r}     (query, key: channels reduced by r)
        h(x) = W_h x                 ∈ R^C         (value)
        s_{i,j} = f(x_i) · g(x_j)                  (plain dot product, as in the paper)
        β_{i,j} = softmax_j(s_{i,j})               (attention over all N pixels)
        o_i = W_v Σ_j β_{i,j} h(x_j)               (1×1 output convolution)
        y_i = γ o_i + x_i                          (γ learnable, γ = 0 at the start)

    With ``γ = 0`` the block is the identity at initialisation: the network first learns from the
    local (convolutional) features and lets the non-local evidence in gradually.

    Args:
        reduction: ``r``, the factor by which the query/key channels are reduced (``C/r``, at
            least 1 channel).
        use_bias: whether the 1×1 projections have biases.
        kernel_initializer, bias_initializer: for the projections.
        gamma_initializer: for ``γ``; ``"zeros"`` (the paper's choice) makes the block start as
            the identity.

    Call arguments:
        inputs: ``(batch, H, W, C)``.
        return_attention_scores: also return the attention map β.

    Returns:
        ``(batch, H, W, C)``, and with ``return_attention_scores=True`` also β of shape
        ``(batch, H·W, H·W)`` (row ``i``, pixels row-major, sums to 1).
    """

    shared_arguments = ("use_bias", "kernel_initializer", "bias_initializer")

    def __init__(
        self,
        reduction=8,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        gamma_initializer="zeros",
        **kwargs,
    ):
        super().__init__(
            score="dot",  # SAGAN: s_ij = f(x_i)·g(x_j), no 1/√d
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            **kwargs,
        )
        self.reduction = check_positive_int("reduction", reduction, high=MAX_SIZE)
        self.gamma_initializer = keras.initializers.get(gamma_initializer)
        self.supports_masking = False

    def _projection(self, name, features, units):
        kernel = self.add_weight(
            name=f"{name}_kernel", shape=(features, units), initializer=self.kernel_initializer
        )
        bias = (
            self.add_weight(name=f"{name}_bias", shape=(units,), initializer=self.bias_initializer)
            if self.use_bias
            else None
        )
        return kernel, bias

    def build(self, input_shape):
        _check_image_shape(self, input_shape)
        channels = input_shape[-1]
        reduced = max(1, channels // self.reduction)
        self.f = self._projection("query", channels, reduced)
        self.g = self._projection("key", channels, reduced)
        self.h = self._projection("value", channels, channels)
        self.v = self._projection("output", channels, channels)
        self.gamma = self.add_weight(name="gamma", shape=(), initializer=self.gamma_initializer)

    @staticmethod
    def _apply(pixels, projection):
        kernel, bias = projection
        out = ops.matmul(pixels, kernel)
        return out if bias is None else out + bias

    def call(self, inputs, return_attention_scores=False):
        shape = ops.shape(inputs)
        pixels = ops.reshape(inputs, (shape[0], shape[1] * shape[2], shape[3]))  # (B, N, C)
        query, key, value = (self._apply(pixels, p) for p in (self.f, self.g, self.h))
        attended, weights = self.attend(query, key, value)
        out = self._apply(attended, self.v)
        outputs = inputs + ops.cast(self.gamma, inputs.dtype) * ops.reshape(out, shape)
        return (outputs, weights) if return_attention_scores else outputs

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "reduction": self.reduction,
            "gamma_initializer": keras.initializers.serialize(self.gamma_initializer),
        }


def _grid(height, width, offset=0):
    """Row-major ``(height·width, 2)`` float32 pixel coordinates ``(row, col)``, shifted by
    ``offset``.
    """
    rows, cols = ops.meshgrid(ops.arange(height), ops.arange(width), indexing="ij")
    coords = ops.stack([ops.reshape(rows, (-1,)), ops.reshape(cols, (-1,))], axis=-1)
    return ops.cast(coords, "float32") + float(offset)


def _kernel_shifts(kernel_size):
    """The ``K²`` shifts ``Δ = (a − p, b − p)`` of a ``K×K`` kernel,
    row-major (``p = (K − 1)/2``).
    """
    half = (kernel_size - 1) // 2
    return [
        [float(a - half), float(b - half)] for a in range(kernel_size) for b in range(kernel_size)
    ]


@keras.saving.register_keras_serializable(package="mlcourse")
class RelativePositionConvAttention(AttentionLayer):
    """Multi-head self-attention over pixels with relative-position scores: a convolution in
    disguise.

    ML2021 L11, "CNN is a special case of self-attention" (Cordonnier, Loukas & Jaggi 2020, "On the
    relationship between self-attention and convolutional layers"). Each of the ``K²`` heads
    ``h`` has a centre ``Δ_h ∈ R²`` (a learnable shift) and scores every key pixel ``j`` seen from
    query pixel ``i`` by content *and* by the relative position ``δ_{ij} = p_j − p_i``::

        s^h_{i,j} = q^{i,h} · k^{j,h} / √d  −  α ‖δ_{ij} − Δ_h‖²           (quadratic encoding)
        b^i = Σ_h W^{o,h} Σ_j softmax_j(s^h_{i,j}) W^{v,h} x_j  +  bias

    The positional term is 0 at ``δ = Δ_h`` and at most ``−α`` elsewhere (shifts are integers), so
    for large ``α`` the softmax is one-hot on the pixel ``i + Δ_h`` when the content scores are
    flat. With ``W^q = W^k = 0``, ``Δ_h`` running over the ``K×K`` shifts ``(a − p, b − p)``,
    ``W^{v,h} = kernel[a, b]`` (``C_in × C_out``), ``W^{o,h} = I`` and the output bias = the conv
    bias, the layer computes ``Σ_{a,b} kernel[a,b]ᵀ x_{i+Δ_{ab}} + bias``: the ``K×K``
    convolution with stride 1.

    Keys and values run over the image padded by ``p = (K − 1)/2`` zero pixels on each side (the
    queries over the image itself), so a shift that leaves the image lands on a zero pixel
    exactly as ``padding="same"`` does; padding pixels carry no value bias.

    Args:
        kernel_size: ``K``, an odd integer; the layer has ``K²`` heads.
        head_dim: ``d``, the width of each head's query/key/value.
        output_dim: width of the output; by default the input width.
        sharpness: ``α > 0``, how hard the positional attention is (50 makes the runner-up weigh
            ``e^{−50}``).
        use_bias, kernel_initializer, bias_initializer: as in ``MultiHeadSelfAttention``, whose
            ``K²``-head projections the layer holds as ``heads``.

    Call arguments:
        inputs: ``(batch, H, W, C)`` with static ``H`` and ``W``.
        return_attention_scores: also return the attention weights.

    Returns:
        ``(batch, H, W, output_dim)``, and with ``return_attention_scores=True`` also the weights
        ``(batch, K², H·W, (H+2p)·(W+2p))``.
    """

    shared_arguments = ("use_bias", "kernel_initializer", "bias_initializer")

    def __init__(
        self,
        kernel_size,
        head_dim,
        output_dim=None,
        sharpness=50.0,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(
            score="scaled_dot",
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            **kwargs,
        )
        self.kernel_size = check_positive_int("kernel_size", kernel_size, high=MAX_KERNEL_SIZE)
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be an odd integer >= 1, got {kernel_size}")
        self.head_dim = check_positive_int("head_dim", head_dim, high=MAX_SIZE)
        self.output_dim = (
            None
            if output_dim is None
            else check_positive_int("output_dim", output_dim, high=MAX_SIZE)
        )
        self.sharpness = check_float("sharpness", sharpness, low=0, high=1e6, low_open=True)
        self.heads = MultiHeadSelfAttention(
            self.kernel_size**2 * self.head_dim,
            self.kernel_size**2,
            output_dim=self.output_dim,
            use_bias=self.use_bias,
            kernel_initializer=self.kernel_initializer,
            bias_initializer=self.bias_initializer,
            dtype=self.dtype_policy,
            name="heads",
        )
        self.supports_masking = False

    def build(self, input_shape):
        _check_image_shape(self, input_shape)
        if input_shape[1] is None or input_shape[2] is None:
            raise ValueError(
                f"inputs need a static height and width, got input_shape={input_shape}"
            )
        self._image_size = (int(input_shape[1]), int(input_shape[2]))
        self.heads.build((input_shape[0], None, input_shape[-1]))
        self.centers = self.add_weight(
            name="centers",
            shape=(self.heads.num_heads, 2),
            initializer=keras.initializers.Constant(_kernel_shifts(self.kernel_size)),
        )

    @property
    def num_heads(self):
        """How many heads the layer's projections have."""
        return self.heads.num_heads

    @property
    def _pad(self):
        return (self.kernel_size - 1) // 2

    def positional_scores(self):
        """``−α ‖δ_{ij} − Δ_h‖²``: ``(heads, H·W, (H+2p)·(W+2p))`` in float32."""
        height, width = self._image_size
        queries = _grid(height, width, offset=self._pad)  # in padded coordinates
        keys = _grid(height + 2 * self._pad, width + 2 * self._pad)
        relative = keys[None, :, :] - queries[:, None, :]  # δ_ij, (Nq, Nk, 2)
        centers = ops.cast(self.centers, "float32")[:, None, None, :]
        return -self.sharpness * ops.sum(ops.square(relative[None] - centers), axis=-1)

    def score(self, query, key):
        content = super().score(query, key)  # (B, heads, Nq, Nk)
        positional = ops.maximum(self.positional_scores(), mask_value(content.dtype))
        return content + ops.cast(positional, content.dtype)[None]

    def call(self, inputs, return_attention_scores=False):
        batch, channels = ops.shape(inputs)[0], ops.shape(inputs)[-1]
        height, width = self._image_size
        pad = self._pad
        padded = ops.pad(inputs, [[0, 0], [pad, pad], [pad, pad], [0, 0]])
        queries = ops.reshape(inputs, (batch, height * width, channels))
        keys = ops.reshape(padded, (batch, (height + 2 * pad) * (width + 2 * pad), channels))
        query = self.heads.project(queries, "query")
        key = self.heads.project(keys, "key")
        value = ops.einsum("btf,fhd->bhtd", keys, self.heads.value_kernel)
        if self.heads.value_bias is not None:  # padding pixels carry no value bias ("same")
            inside = ops.pad(ops.ones((height, width)), [[pad, pad], [pad, pad]])
            inside = ops.cast(ops.reshape(inside, (1, 1, -1, 1)), value.dtype)
            value = value + inside * self.heads.value_bias[None, :, None, :]
        per_head, weights = self.attend(query, key, value)
        outputs = ops.reshape(self.heads.merge(per_head), (batch, height, width, -1))
        return (outputs, weights) if return_attention_scores else outputs

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.output_dim or input_shape[-1],)

    def get_config(self):
        return {
            **super().get_config(),
            "kernel_size": self.kernel_size,
            "head_dim": self.head_dim,
            "output_dim": self.output_dim,
            "sharpness": self.sharpness,
        }
