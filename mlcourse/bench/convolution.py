"""ReceptiveFieldConv2D (the lecture's neuron version) against keras.layers.Conv2D (ML2021 L09): a
story.

Both hold the same weights (checked before timing); the step is forward + backward. Ours cuts every
receptive field out of the image with k_h·k_w strided slices and stacks them — a k_h·k_w-fold copy
of the image ("im2col") — then does one matrix product; Conv2D's kernel never writes that copy, so
it moves k_h·k_w times fewer bytes, and ours must also scatter the gradient of every copy back.
No target: the ratio is the price of the copy.
"""

import keras
import numpy as np
import tensorflow as tf

from mlcourse.bench import Comparison, forward_backward
from mlcourse.layers import ReceptiveFieldConv2D


def _build(shape, filters, kernel_size, strides, padding):
    x = tf.constant(np.random.default_rng(0).normal(size=shape).astype("float32"))
    conv = keras.layers.Conv2D(filters, kernel_size, strides=strides, padding=padding)
    ours = ReceptiveFieldConv2D(filters, kernel_size, strides=strides, padding=padding)
    conv.build(shape)
    ours.build(shape)
    ours.set_weights(conv.get_weights())
    np.testing.assert_allclose(ours(x).numpy(), conv(x).numpy(), atol=1e-4)
    return (
        forward_backward(lambda: ours(x), [x, ours.kernel]),
        forward_backward(lambda: conv(x), [x, conv.kernel]),
    )


def comparisons(smoke=False):
    batch = 8 if smoke else 64
    cases = {
        "28x28x1 -> 32, 3x3 same": ((batch, 28, 28, 1), 32, 3, 1, "same"),
        "28x28x16 -> 32, 3x3 stride 2": ((batch, 28, 28, 16), 32, 3, 2, "valid"),
    }
    if not smoke:
        cases.update(
            {
                "14x14x32 -> 64, 3x3 same": ((batch, 14, 14, 32), 64, 3, 1, "same"),
                "14x14x32 -> 64, 5x5 same": ((batch, 14, 14, 32), 64, 5, 1, "same"),
            }
        )
    for label, case in cases.items():
        yield Comparison(
            "convolution",
            f"conv fwd+bwd, batch {batch}, {label}",
            lambda case=case: _build(*case),
            ours="ReceptiveFieldConv2D",
            reference="Conv2D",
        )
