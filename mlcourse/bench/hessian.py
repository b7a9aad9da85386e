"""Hessian-vector products and Lanczos against the exact Hessian, by parameter count (ML2021 L04): a
story.

Models are MLPs 784-h-10 on Fashion-MNIST images (the cost does not depend on the labels' meaning,
but the spectrum, and so the number of Lanczos steps, does).

* ``H·v / gradient``: one Hessian-vector product by double backprop against one gradient. If H·v
  costs O(n), like the gradient, the ratio stays about constant (≈ 2-4) as n grows.
* ``Lanczos / exact``: the extreme eigenvalues by Lanczos (scipy ``eigsh`` on H·v) against forming
  the n × n Hessian and ``eigvalsh``. The exact way grows like n² memory and n³ time; the ratio
  falls as n grows.
"""

import keras
import numpy as np

from mlcourse.analysis.hessian import LossSurface
from mlcourse.bench import Comparison
from mlcourse.data import fashion_mnist


def _surface(width, images):
    (x, y), _ = fashion_mnist.load()
    x, y = x[:images].reshape(images, -1).astype("float32") / 255.0, y[:images]
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((784,)), keras.layers.Dense(width, activation="tanh"), keras.layers.Dense(10)]
    )
    return LossSurface(
        model, x, y, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )


def _hvp_vs_gradient(width, images):
    surface = _surface(width, images)
    v = np.random.default_rng(0).normal(size=surface.num_parameters)
    return (lambda: surface.hessian_vector_product(v)), surface.gradient


def _lanczos_vs_exact(width, images):
    surface = _surface(width, images)
    return (lambda: surface.extreme_eigenpairs(k=1, tol=1e-4)[0]), (
        lambda: np.linalg.eigvalsh(surface.hessian())
    )


def _weights(width):
    return 784 * width + width + 10 * width + 10


def comparisons(smoke=False):
    images = 256 if smoke else 1024
    for width in (4, 32) if smoke else (16, 64, 256):
        yield Comparison(
            "hessian",
            f"H·v vs gradient, {_weights(width)} weights",
            lambda width=width: _hvp_vs_gradient(width, images),
            ours="H·v",
            reference="gradient",
        )
    for width in (1, 2) if smoke else (1, 2, 4):
        yield Comparison(
            "hessian",
            f"Lanczos vs exact H, {_weights(width)} weights",
            lambda width=width: _lanczos_vs_exact(width, 256),
            ours="Lanczos (eigsh on H·v)",
            reference="exact H + eigvalsh",
            calls=1,
            rounds=3,
        )
