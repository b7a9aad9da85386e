"""Pooling told the same way as convolution: cut every receptive field, reduce it (ML2021 L09,
pooling).

Pooling has no weights. Each channel's receptive field (``pool_size``, moved by ``strides``) is
reduced to one number — its maximum or its mean:

$$y_{ijc} = \\max_{u,v}\\, x_{s_h i + u,\\, s_w j + v,\\, c} \\qquad\\text{or}\\qquad
y_{ijc} = \\frac{1}{|F_{ij}|} \\sum_{(u,v) \\in F_{ij}} x_{s_h i + u,\\, s_w j + v,\\, c}.$$

With a 2 × 2 field moved by 2 the image shrinks to a quarter, cutting the compute of the layers
after it; the lecture notes that it can hurt when fine detail matters (AlphaGo uses none).

With "same" padding the border cells are not real pixels: max pooling pads with $-\\infty$ (never
the maximum) and mean pooling divides by the number of real pixels $|F_{ij}|$ in the field, as
``keras.layers.MaxPooling2D`` / ``AveragePooling2D`` do.
"""

import keras
from keras import ops

from mlcourse.layers.convolution import (
    _padding,
    check_fits,
    output_length,
    receptive_fields,
)
from mlcourse.layers.inputs import check_batch
from mlcourse.validation import check_int_tuple

__all__ = ["ReceptiveFieldMaxPooling2D", "ReceptiveFieldAveragePooling2D"]


class _ReceptiveFieldPooling2D(keras.layers.Layer):
    """Cut receptive fields per channel and reduce each with ``_reduce`` (subclasses set it)."""

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", **kwargs):
        super().__init__(**kwargs)
        self.pool_size = check_int_tuple("pool_size", pool_size, 2)
        self.strides = self.pool_size if strides is None else check_int_tuple("strides", strides, 2)
        self.padding = _padding(padding)
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def build(self, input_shape):
        check_fits(input_shape, self.pool_size, self.padding, argument="pool_size")

    def compute_output_shape(self, input_shape):
        check_fits(input_shape, self.pool_size, self.padding, argument="pool_size")
        height, width = (
            output_length(n, k, s, self.padding)
            for n, k, s in zip(input_shape[1:3], self.pool_size, self.strides, strict=True)
        )
        return (input_shape[0], height, width, input_shape[3])

    def get_config(self):
        config = super().get_config()
        config.update(pool_size=self.pool_size, strides=self.strides, padding=self.padding)
        return config


@keras.saving.register_keras_serializable(package="mlcourse")
class ReceptiveFieldMaxPooling2D(_ReceptiveFieldPooling2D):
    """Max pooling: the largest value in each channel's receptive field (ML2021 L09, pooling).

    Same numbers as ``keras.layers.MaxPooling2D`` configured alike.

    Args:
        pool_size: receptive field size, an integer or a pair of positive integers; default
            ``(2, 2)``.
        strides: how far the field moves, an integer or a pair; default ``pool_size``.
        padding: "valid" or "same" (border padded with $-\\infty$).

    Call arguments:
        inputs: ``(batch, height, width, channels)``.

    Returns:
        ``(batch, H', W', channels)``.
    """

    def call(self, inputs):
        check_batch(self, inputs)
        fields = receptive_fields(
            inputs, self.pool_size, self.strides, self.padding, pad_value=float("-inf")
        )
        return ops.max(fields, axis=3)


@keras.saving.register_keras_serializable(package="mlcourse")
class ReceptiveFieldAveragePooling2D(_ReceptiveFieldPooling2D):
    """Mean pooling: the mean of each channel's receptive field, real pixels only (ML2021 L09,
    pooling).

    Same numbers as ``keras.layers.AveragePooling2D`` configured alike.

    Args:
        pool_size: receptive field size, an integer or a pair of positive integers; default
            ``(2, 2)``.
        strides: how far the field moves, an integer or a pair; default ``pool_size``.
        padding: "valid" or "same" (padded cells are left out of the mean).

    Call arguments:
        inputs: ``(batch, height, width, channels)``.

    Returns:
        ``(batch, H', W', channels)``.
    """

    def call(self, inputs):
        fields = receptive_fields(inputs, self.pool_size, self.strides, self.padding)
        sums = ops.sum(fields, axis=3)
        if self.padding == "valid":
            return sums / ops.cast(self.pool_size[0] * self.pool_size[1], sums.dtype)
        real_pixels = receptive_fields(
            ops.ones_like(inputs[:1, :, :, :1]), self.pool_size, self.strides, "same"
        )
        return sums / ops.sum(real_pixels, axis=3)  # |F_ij|, broadcast over batch and channels
