"""Convolution told as neurons: every receptive field, one shared neuron (ML2021 L09, CNN).

The lecture tells the convolutional layer twice.

*Neuron version.* A neuron looks only at its receptive field, a ``k_h × k_w × C_in`` cube of the
image; neurons whose fields sit at different places *share their parameters*. Cut out every
receptive field, flatten it to a vector $\\mathbf{p}_{ij}$ of length $k_h k_w C_{in}$, and apply
the same $C_{out}$ neurons to each:

$$y_{ij} = W^\\top \\mathbf{p}_{ij} + \\mathbf{b},\\qquad W \\in \\mathbb{R}^{k_h k_w C_{in} \\times
C_{out}}.$$

*Filter version.* A set of $C_{out}$ filters, each a ``k_h × k_w × C_in`` tensor, slides over the
image: $y_{ijo} = \\sum_{u,v,c} K_{uvco}\\, x_{s i + u,\\, s j + v,\\, c} + b_o$.

Reshape the filter bank $K$ to ``(k_h k_w C_in, C_out)`` and it *is* $W$: one set of shared
parameters of the neuron story is one filter of the filter story. ``ReceptiveFieldConv2D`` is
written the neuron way with weights laid out exactly like ``keras.layers.Conv2D``'s, so
``layer.set_weights(conv.get_weights())`` makes the two layers give the same numbers — the test of
the lecture's claim. Receptive fields are cut with plain strided slices (one slice per position in
the kernel), so nothing here calls a convolution.
"""

import math

import keras
from keras import ops

from mlcourse.layers.inputs import input_spec
from mlcourse.validation import check_bool, check_choice, check_int_tuple, check_positive_int

__all__ = ["ReceptiveFieldConv2D", "multiply_adds", "receptive_fields"]

PADDINGS = ("valid", "same")


# ----------------------------------------------------------------------------- argument checks


def _padding(value):
    """``"valid"`` or ``"same"`` (any case), like Keras."""
    return check_choice("padding", value.lower() if isinstance(value, str) else value, PADDINGS)


# ----------------------------------------------------------------------------- receptive fields


def output_length(size, kernel, stride, padding):
    """How many receptive fields fit along one axis.

    "valid": $\\lfloor (n - k) / s \\rfloor + 1$ fields, none crossing the border.
    "same":  $\\lceil n / s \\rceil$ fields; the image is padded so the last one fits.
    """
    if size is None:
        return None
    if padding == "same":
        return math.ceil(size / stride)
    return (size - kernel) // stride + 1


def same_padding(size, kernel, stride):
    """``(before, after)`` zeros for "same" padding, split like TensorFlow (the extra one after)."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def check_fits(input_shape, kernel_size, padding, argument="kernel_size"):
    """A "valid" receptive field larger than the image has nowhere to go."""
    height, width = input_shape[1], input_shape[2]
    if height is None or width is None:
        raise ValueError(
            "input_shape must have a known height and width to cut receptive fields, got "
            f"{input_shape}"
        )
    for size, kernel in zip((height, width), kernel_size, strict=True):
        if padding == "valid" and size is not None and kernel > size:
            raise ValueError(
                f"{argument} {tuple(kernel_size)} is larger than the input ({height}, {width}) "
                "with "
                f'padding "valid"; use a {argument} of at most the input size, or padding "same"'
            )


def receptive_fields(images, kernel_size, strides, padding, pad_value=0.0):
    """Cut every receptive field out of a batch of images.

    Field ``(i, j)`` covers rows ``s_h i … s_h i + k_h - 1`` and columns ``s_w j … s_w j + k_w - 1``
    of the (padded) image. Instead of looping over the ``H' × W'`` fields, loop over the
    ``k_h × k_w`` positions *inside* a field: position ``(u, v)`` of every field at once is the
    strided slice ``x[u :: s_h, v :: s_w]``.

    Args:
        images: ``(batch, height, width, channels)``.
        kernel_size, strides: pairs of positive integers.
        padding: "valid" or "same".
        pad_value: what the border is padded with ("same" only): 0 for convolution, -inf for max
            pooling.

    Returns:
        ``(batch, H', W', k_h * k_w, channels)``; axis 3 runs over the field row by row, the order
        of ``Conv2D``'s kernel axes ``(k_h, k_w)``.
    """
    (k_h, k_w), (s_h, s_w) = kernel_size, strides
    height, width = images.shape[1], images.shape[2]
    out_h, out_w = (
        output_length(n, k, s, padding)
        for n, k, s in zip((height, width), kernel_size, strides, strict=True)
    )
    if padding == "same":
        pads = [(0, 0), same_padding(height, k_h, s_h), same_padding(width, k_w, s_w), (0, 0)]
        images = ops.pad(images, pads, constant_values=pad_value)
    fields = [
        images[:, u : u + s_h * (out_h - 1) + 1 : s_h, v : v + s_w * (out_w - 1) + 1 : s_w, :]
        for u in range(k_h)
        for v in range(k_w)
    ]
    return ops.stack(fields, axis=3)


def multiply_adds(model):
    r"""Multiply-adds of one forward pass of one image through a model's Dense and 2D conv layers.

    Each of a conv layer's $H' W'$ receptive fields costs one multiply-add per weight of the shared
    neuron(s): $H' W' \cdot k_h k_w C_{in} C_{out}$. A dense layer costs $n_{in} n_{out}$. Pooling,
    biases and activations are not counted (they are small next to these).
    """
    total = 0
    for layer in model.layers:
        kernel = getattr(layer, "kernel", None)
        if kernel is None:
            continue
        weights = math.prod(kernel.shape)
        total += weights * (math.prod(layer.output.shape[1:3]) if len(kernel.shape) == 4 else 1)
    return int(total)


# ----------------------------------------------------------------------------- the layer


@keras.saving.register_keras_serializable(package="mlcourse")
class ReceptiveFieldConv2D(keras.layers.Layer):
    """2D convolution as the lecture's neuron version: one shared neuron per receptive field.

    Every ``kernel_size`` receptive field (moved by ``strides``, with ``padding``) is flattened to a
    vector $\\mathbf{p}_{ij} \\in \\mathbb{R}^{k_h k_w C_{in}}$ and the same ``filters`` neurons are
    applied to each, $y_{ij} = \\sigma(W^\\top \\mathbf{p}_{ij} + \\mathbf{b})$. The weights are
    stored like ``keras.layers.Conv2D``'s — ``kernel (k_h, k_w, C_in, filters)`` then
    ``bias (filters,)`` — so ``set_weights(conv.get_weights())`` makes both layers compute the same
    function (ML2021 L09, receptive field + parameter sharing = convolutional layer).

    It is slower than ``Conv2D``: it materialises all $H' W' k_h k_w C_{in}$ field values (a
    ``k_h k_w``-fold copy of the image, "im2col") before one matrix product, where the convolution
    kernel never writes the copies out. ``mlcourse bench --only convolution`` measures by how much.

    Args:
        filters: number of neurons per receptive field (= number of filters), a positive integer.
        kernel_size: receptive field size, an integer or a pair ``(k_h, k_w)``.
        strides: how far the receptive field moves, an integer or a pair; positive.
        padding: "valid" (fields stay inside the image) or "same" (zero-pad so that
            ``ceil(size / stride)`` fields fit along each axis).
        activation: activation applied to each neuron's output; default none.
        use_bias: whether the neurons have a bias.
        kernel_initializer, bias_initializer: Keras initializers.

    Call arguments:
        inputs: ``(batch, height, width, C_in)`` images (channels last; height and width known).

    Returns:
        ``(batch, H', W', filters)``: each neuron's output at each receptive field.
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = check_positive_int("filters", filters)
        self.kernel_size = check_int_tuple("kernel_size", kernel_size, 2)
        self.strides = check_int_tuple("strides", strides, 2)
        self.padding = _padding(padding)
        self.activation = keras.activations.get(activation)
        self.use_bias = check_bool("use_bias", use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def build(self, input_shape):
        check_fits(input_shape, self.kernel_size, self.padding)
        self.input_spec = input_spec(input_shape)
        channels = input_shape[-1]
        self.kernel = self.add_weight(
            name="kernel",
            shape=(*self.kernel_size, channels, self.filters),
            initializer=self.kernel_initializer,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(self.filters,), initializer=self.bias_initializer
            )

    def call(self, inputs):
        fields = receptive_fields(inputs, self.kernel_size, self.strides, self.padding)
        _, out_h, out_w, field_size, channels = fields.shape
        field_vectors = ops.reshape(
            fields, (-1, out_h, out_w, field_size * channels)
        )  # p_ij: (k_h, k_w, C_in)
        shared_neurons = ops.reshape(
            self.kernel, (-1, self.filters)
        )  # W = the filter bank, flattened
        outputs = ops.matmul(field_vectors, shared_neurons)
        if self.use_bias:
            outputs = outputs + self.bias
        return self.activation(outputs)

    def compute_output_shape(self, input_shape):
        check_fits(input_shape, self.kernel_size, self.padding)
        height, width = (
            output_length(n, k, s, self.padding)
            for n, k, s in zip(input_shape[1:3], self.kernel_size, self.strides, strict=True)
        )
        return (input_shape[0], height, width, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            kernel_size=self.kernel_size,
            strides=self.strides,
            padding=self.padding,
            activation=keras.activations.serialize(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            bias_initializer=keras.initializers.serialize(self.bias_initializer),
        )
        return config
