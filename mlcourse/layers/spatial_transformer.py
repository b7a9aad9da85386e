"""Spatial transformer: a layer that learns to rotate, scale and shift its input (ML2021 L09, to
learn more).

A CNN is not invariant to scaling and rotation (the lecture; translation it handles). Jaderberg et
al. (2015, https://arxiv.org/abs/1506.02025) put a learnable, differentiable warp in front of it:

1. a *localisation network* looks at the image $U$ and outputs six numbers, an affine map
   $\\theta = \\begin{pmatrix} a & b & t_x \\\\ c & d & t_y \\end{pmatrix}$;
2. a *grid generator* sends each output pixel's normalised coordinates $(x^t, y^t) \\in [-1, 1]^2$
   to the source point $\\begin{pmatrix} x^s \\\\ y^s \\end{pmatrix} = \\theta
   \\begin{pmatrix} x^t \\\\ y^t \\\\ 1 \\end{pmatrix}$;
3. a *bilinear sampler* reads $U$ there, $V_{ij} = \\sum_{n,m} U_{nm}\\, \\max(0, 1 - |x^s_{ij} -
m|)
   \\max(0, 1 - |y^s_{ij} - n|)$ (pixel units, zero outside the image), which is differentiable in
   $\\theta$, so the whole thing trains by back-propagation with the network after it.

The last layer of the localisation network starts at zero weights and the identity bias, so a fresh
transformer returns its input unchanged.
"""

import math

import keras
import numpy as np
from keras import ops

from mlcourse.layers.inputs import check_batch
from mlcourse.validation import check_int_tuple, check_positive_int

__all__ = ["SpatialTransformer", "affine_sample", "affine_theta", "IDENTITY_THETA"]

IDENTITY_THETA = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def affine_theta(rotation_degrees=0.0, scale=1.0, shift=(0.0, 0.0), image_size=(28, 28)):
    """The ``θ`` (6 numbers, row-major ``2 × 3``) that rotates, scales and shifts an image's
    content.

    Rotation is counter-clockwise as seen on screen (rows grow downwards), about the image centre;
    ``scale`` > 1 enlarges the content; ``shift = (dx, dy)`` moves it right/down by pixels. ``θ``
    maps output coordinates to source coordinates, so it is the *inverse* of the content's motion.
    The rotation is in normalised coordinates, a true rotation for square images.
    """
    height, width = image_size
    angle = math.radians(rotation_degrees)
    # Content motion in normalised coordinates: p' = s R p + t; the sampler needs p = (p' - t) R^T /
    # s.
    cos, sin = math.cos(angle), math.sin(angle)
    inverse = np.array([[cos, -sin], [sin, cos]]) / scale  # R(-angle) / s, with y pointing down
    t = np.array([2.0 * shift[0] / max(width - 1, 1), 2.0 * shift[1] / max(height - 1, 1)])
    return tuple(
        float(v) for v in np.concatenate([inverse, (-inverse @ t)[:, None]], axis=1).ravel()
    )


def _sampling_grid(theta, height, width):
    """Source coordinates in pixels, ``(batch, height * width)`` each,
    for output pixels row by row.
    """
    ys, xs = np.meshgrid(
        np.linspace(-1.0, 1.0, height), np.linspace(-1.0, 1.0, width), indexing="ij"
    )
    target = np.stack([xs.ravel(), ys.ravel(), np.ones(height * width)]).astype(
        "float32"
    )  # (3, H W)
    source = ops.matmul(
        ops.reshape(theta, (-1, 2, 3)), ops.convert_to_tensor(target)
    )  # (batch, 2, H W)
    return source[:, 0], source[:, 1]


def affine_sample(images, theta, output_size=None):
    """Warp ``images`` by ``θ`` with a bilinear sampler (zero outside the image).

    Coordinates are normalised so that -1 and 1 are the centres of the first and last pixels
    (``align_corners=True``): the identity ``θ`` returns the image exactly.

    Args:
        images: ``(batch, H, W, C)`` float tensor.
        theta: ``(batch, 6)`` or ``(batch, 2, 3)``, maps output to source coordinates.
        output_size: ``(H_out, W_out)``; default ``(H, W)``.

    Returns:
        ``(batch, H_out, W_out, C)`` in ``images``' dtype.
    """
    height, width, channels = images.shape[1], images.shape[2], images.shape[3]
    out_h, out_w = output_size or (height, width)
    x, y = _sampling_grid(ops.cast(theta, "float32"), out_h, out_w)
    x = (x + 1.0) * (width - 1) / 2.0  # normalised -> pixel coordinates
    y = (y + 1.0) * (height - 1) / 2.0
    # A NaN in the inputs gives a NaN θ: its output is NaN (passed through, the user's data), and
    # its coordinates must not become out-of-range gather indices.
    finite = ops.isfinite(x) & ops.isfinite(y)
    x0, y0 = ops.floor(ops.where(finite, x, 0.0)), ops.floor(ops.where(finite, y, 0.0))
    flat = ops.reshape(ops.cast(images, "float32"), (-1, height * width, channels))
    result = 0.0
    for dy in (0.0, 1.0):
        for dx in (0.0, 1.0):
            xn, yn = x0 + dx, y0 + dy
            weight = (1.0 - ops.abs(x - xn)) * (1.0 - ops.abs(y - yn))  # bilinear kernel, >= 0 here
            inside = (xn >= 0) & (xn <= width - 1) & (yn >= 0) & (yn <= height - 1)
            weight = ops.where(inside | ~finite, weight, 0.0)
            index = ops.cast(
                ops.clip(yn, 0, height - 1) * width + ops.clip(xn, 0, width - 1), "int32"
            )
            index = ops.broadcast_to(
                ops.expand_dims(index, -1), (ops.shape(index)[0], out_h * out_w, channels)
            )
            result = result + ops.expand_dims(weight, -1) * ops.take_along_axis(flat, index, axis=1)
    return ops.cast(ops.reshape(result, (-1, out_h, out_w, channels)), images.dtype)


@keras.saving.register_keras_serializable(package="mlcourse")
class SpatialTransformer(keras.layers.Layer):
    """Localisation net → affine θ → bilinear sampler (ML2021 L09; Jaderberg et al., 2015).

    The localisation network is ``Conv2D(f, 3, strides=2, "same", relu)`` for each ``f`` in
    ``localization_filters``, then ``Flatten``, ``Dense(localization_units, relu)`` and a
    ``Dense(6)`` that outputs ``θ``; that last layer starts at zero weights and the identity bias,
    so the layer starts as the identity map. The sampler is ``affine_sample``.

    Args:
        localization_filters: filters of the localisation network's conv layers, a tuple of positive
            integers (may be empty).
        localization_units: width of its hidden dense layer, a positive integer.
        output_size: ``(H_out, W_out)`` of the warped image, or ``None`` for the input's size.

    Call arguments:
        inputs: ``(batch, H, W, C)`` images.

    Returns:
        ``(batch, H_out, W_out, C)``: the images warped by their own ``θ``. The last ``θ`` computed
        is not kept; call ``layer.theta(inputs)`` to see it.
    """

    def __init__(
        self, localization_filters=(8, 16), localization_units=32, output_size=None, **kwargs
    ):
        super().__init__(**kwargs)
        self.localization_filters = check_int_tuple(
            "localization_filters", localization_filters, None, allow_empty=True
        )
        self.localization_units = check_positive_int("localization_units", localization_units)
        self.output_size = None
        if output_size is not None:
            self.output_size = check_int_tuple("output_size", output_size, 2)
        policy = self.dtype_policy
        self.localization = [
            keras.layers.Conv2D(
                f, 3, strides=2, padding="same", activation="relu", dtype=policy, name=f"conv_{i}"
            )
            for i, f in enumerate(self.localization_filters)
        ]
        self.localization += [
            keras.layers.Flatten(dtype=policy, name="flatten"),
            keras.layers.Dense(
                self.localization_units, activation="relu", dtype=policy, name="hidden"
            ),
        ]
        self.theta_layer = keras.layers.Dense(
            6, kernel_initializer="zeros", dtype=policy, name="theta"
        )
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def build(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.localization:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        self.theta_layer.build(shape)
        self.theta_layer.bias.assign(np.array(IDENTITY_THETA, dtype="float32"))

    def theta(self, inputs):
        """The affine parameters, ``(batch, 6)`` float32, that the localisation net gives
        ``inputs``.
        """
        hidden = inputs
        for layer in self.localization:
            hidden = layer(hidden)
        return ops.cast(self.theta_layer(hidden), "float32")

    def call(self, inputs):
        check_batch(self, inputs)
        return affine_sample(inputs, self.theta(inputs), self.output_size)

    def compute_output_shape(self, input_shape):
        height, width = self.output_size or input_shape[1:3]
        return (input_shape[0], height, width, input_shape[3])

    def get_config(self):
        config = super().get_config()
        config.update(
            localization_filters=self.localization_filters,
            localization_units=self.localization_units,
            output_size=self.output_size,
        )
        return config
