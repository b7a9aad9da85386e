"""Battery cases for lecture 9: ReceptiveFieldConv2D, receptive-field pooling,
SpatialTransformer.
"""

import numpy as np

from mlcourse.layers import (
    ReceptiveFieldAveragePooling2D,
    ReceptiveFieldConv2D,
    ReceptiveFieldMaxPooling2D,
    SpatialTransformer,
)

from battery import BadArg, LayerCase


def _images(height=9, width=8, channels=3):
    return lambda: (
        np.random.default_rng(0).normal(size=(2, height, width, channels)).astype("float32")
    )


def _built(layer, shape=(2, 3, 3, 1)):
    layer.build(shape)
    return layer


POOLING_BAD_ARGS = lambda cls: [  # noqa: E731
    BadArg(lambda: _built(cls(pool_size=5)), "pool_size"),  # larger than a 3×3 input, "valid"
    BadArg(lambda: cls(pool_size=2, strides=0), "strides"),
    BadArg(lambda: cls(pool_size=2, strides=(1, -1)), "strides"),
    BadArg(lambda: cls(padding="full"), "padding"),
]

CASES = [
    LayerCase(
        name="ReceptiveFieldConv2D",
        make=lambda: ReceptiveFieldConv2D(4, 3, strides=2, padding="same", activation="relu"),
        inputs=_images(),
        bad_args=[
            BadArg(
                lambda: _built(ReceptiveFieldConv2D(4, 5)), "kernel_size"
            ),  # 5×5 field, 3×3 input, "valid"
            BadArg(lambda: ReceptiveFieldConv2D(4, 3, strides=0), "strides"),
            BadArg(lambda: ReceptiveFieldConv2D(4, 3, strides=(1, -2)), "strides"),
            BadArg(lambda: ReceptiveFieldConv2D(4, 3, padding="causal"), "padding"),
            BadArg(lambda: ReceptiveFieldConv2D(0, 3), "filters"),
            BadArg(lambda: ReceptiveFieldConv2D(4, (3, 0)), "kernel_size"),
        ],
    ),
    LayerCase(
        name="ReceptiveFieldMaxPooling2D",
        make=lambda: ReceptiveFieldMaxPooling2D(3, strides=2, padding="same"),
        inputs=_images(),
        bad_args=POOLING_BAD_ARGS(ReceptiveFieldMaxPooling2D),
    ),
    LayerCase(
        name="ReceptiveFieldAveragePooling2D",
        make=lambda: ReceptiveFieldAveragePooling2D(3, strides=2, padding="same"),
        inputs=_images(),
        bad_args=POOLING_BAD_ARGS(ReceptiveFieldAveragePooling2D),
    ),
    LayerCase(
        name="SpatialTransformer",
        make=lambda: SpatialTransformer(
            localization_filters=(4,), localization_units=8, output_size=(6, 5)
        ),
        inputs=_images(height=10, width=10, channels=2),
        bad_args=[
            BadArg(lambda: SpatialTransformer(localization_filters=(8, 0)), "localization_filters"),
            BadArg(lambda: SpatialTransformer(localization_units=0), "localization_units"),
            BadArg(lambda: SpatialTransformer(output_size=(28,)), "output_size"),
            BadArg(lambda: SpatialTransformer(output_size=(28, -1)), "output_size"),
        ],
        atol=1e-6,
        steps_to_move=2,  # the localisation net's last layer starts at zero (the identity)
    ),
]
