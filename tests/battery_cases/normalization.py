"""Battery cases for mlcourse.layers.normalization (ML2021 L08, batch normalization)."""

import keras
import numpy as np

from mlcourse.layers import normalization as norm

from battery import BadArg, LayerCase


def _images(shape=(4, 5, 5, 8)):
    return np.random.default_rng(0).normal(1.0, 2.0, size=shape).astype("float32")


def _vectors():
    return np.random.default_rng(1).normal(1.0, 2.0, size=(6, 10)).astype("float32")


def _built(layer, shape):
    layer.build(shape)
    return layer


CASES = [
    LayerCase(
        name="BatchNorm",
        make=lambda: norm.BatchNorm(
            axis=-1, momentum=0.9, epsilon=1e-3, beta_initializer="random_normal"
        ),
        inputs=_images,
        atol=0.0,
        bad_args=[
            BadArg(lambda: norm.BatchNorm(momentum=1.0), "momentum"),
            BadArg(lambda: norm.BatchNorm(epsilon=0.0), "epsilon"),
            BadArg(lambda: norm.BatchNorm(axis=1.5), "axis"),
            BadArg(lambda: _built(norm.BatchNorm(axis=4), (2, 3, 3, 4)), "axis"),
            BadArg(lambda: _built(norm.BatchNorm(axis=0), (2, 3)), "axis"),
            BadArg(lambda: norm.BatchNorm(center="yes"), "center"),
        ],
    ),
    LayerCase(
        name="BatchRenorm",
        make=lambda: norm.BatchRenorm(axis=-1, momentum=0.9, rmax=2.0, dmax=1.0),
        inputs=_images,
        bad_args=[
            BadArg(lambda: norm.BatchRenorm(rmax=0.5), "rmax"),
            BadArg(lambda: norm.BatchRenorm(dmax=-1.0), "dmax"),
            BadArg(lambda: norm.BatchRenorm(momentum=-0.1), "momentum"),
            BadArg(lambda: _built(norm.BatchRenorm(axis=-5), (2, 3, 3, 4)), "axis"),
        ],
    ),
    LayerCase(
        name="LayerNorm",
        make=lambda: norm.LayerNorm(
            axis=[-3, -2, -1], epsilon=1e-5, gamma_initializer="random_normal"
        ),
        inputs=_images,
        bad_args=[
            BadArg(lambda: norm.LayerNorm(axis=[1, 1]), "axis"),
            BadArg(lambda: norm.LayerNorm(axis="last"), "axis"),
            BadArg(lambda: _built(norm.LayerNorm(axis=3), (2, 5, 4)), "axis"),
            BadArg(lambda: norm.LayerNorm(epsilon=-1.0), "epsilon"),
        ],
    ),
    LayerCase(
        name="GroupNorm",
        make=lambda: norm.GroupNorm(groups=4, axis=-1, beta_initializer="random_normal"),
        inputs=_images,
        bad_args=[
            BadArg(lambda: norm.GroupNorm(groups=0), "groups"),
            BadArg(lambda: _built(norm.GroupNorm(groups=3), (2, 5, 5, 8)), "groups"),
            BadArg(lambda: norm.GroupNorm(groups=2, axis=[1, 2]), "axis"),
            BadArg(lambda: _built(norm.GroupNorm(groups=2, axis=7), (2, 5, 5, 8)), "axis"),
        ],
    ),
    LayerCase(
        name="InstanceNorm",
        make=lambda: norm.InstanceNorm(axis=-1, epsilon=1e-3, beta_initializer="random_normal"),
        inputs=_images,
        bad_args=[
            BadArg(lambda: norm.InstanceNorm(epsilon="small"), "epsilon"),
            BadArg(lambda: _built(norm.InstanceNorm(), (2, 8)), "inputs"),
            BadArg(lambda: _built(norm.InstanceNorm(axis=-4), (2, 5, 5, 8)), "axis"),
        ],
    ),
    LayerCase(
        name="WeightNorm",
        make=lambda: norm.WeightNorm(keras.layers.Conv2D(3, 3, padding="same", activation="relu")),
        inputs=_images,
        atol=0.0,
        bad_args=[
            BadArg(lambda: norm.WeightNorm("dense"), "layer"),
            BadArg(
                lambda: _built(norm.WeightNorm(keras.layers.Activation("relu")), (2, 4)), "layer"
            ),
        ],
    ),
    LayerCase(
        name="SpectralNorm",
        make=lambda: norm.SpectralNorm(keras.layers.Dense(5), power_iterations=2),
        inputs=_vectors,
        call_kwargs={"training": True},
        bad_args=[
            BadArg(
                lambda: norm.SpectralNorm(keras.layers.Dense(5), power_iterations=0),
                "power_iterations",
            ),
            BadArg(lambda: norm.SpectralNorm(None), "layer"),
            BadArg(lambda: _built(norm.SpectralNorm(keras.layers.Dropout(0.5)), (2, 4)), "layer"),
        ],
    ),
]
