"""Benchmark: Hessian-vector products and Lanczos cost linear time in the number of weights (ML2021 L04).

1. For MLPs 784-h-10 on 1024 Fashion-MNIST images (12k to 400k weights): the time of one gradient and of
   one Hessian-vector product (double backprop), measured alternately in this one process after a
   warm-up; the HVP/gradient ratio (min/median/max) should stay about constant (~2-4x) while the time
   per weight stays flat, i.e. H·v costs O(n) and never forms the n x n matrix.
2. Lanczos (scipy eigsh on a LinearOperator of H·v) for the smallest and largest eigenvalue of the
   100k+ model: wall time and number of Hessian-vector products.
3. On a small model: the exact Hessian (n x n) against Lanczos, both timed, and their agreement.

Usage: python benchmarks/hessian.py [--repeats 10] [--widths 16,32,64,128,256,512]
"""

import argparse
import time

import keras
import numpy as np

from mlcourse.analysis.hessian import LossSurface
from mlcourse.data import fashion_mnist
from mlcourse.runner import format_table


def mlp(width, seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((784,)), keras.layers.Dense(width, activation="tanh"), keras.layers.Dense(10)])


def surface_for(width, x, y):
    keras.backend.clear_session()
    return LossSurface(mlp(width), x, y, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))


def seconds(function, *args):
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def stats(values):
    return float(np.min(values)), float(np.median(values)), float(np.max(values))


def linear_cost(widths, x, y, repeats):
    rows = []
    for width in widths:
        surface = surface_for(width, x, y)
        v = np.random.default_rng(0).normal(size=surface.num_parameters)
        for _ in range(3):  # warm-up: tracing and first-call allocation
            surface.gradient(), surface.hessian_vector_product(v)
        grad_times, hvp_times = [], []
        for _ in range(repeats):  # alternate, so that machine load hits both alike
            grad_times.append(seconds(surface.gradient))
            hvp_times.append(seconds(surface.hessian_vector_product, v))
        ratios = np.array(hvp_times) / np.array(grad_times)
        low, mid, high = stats(ratios)
        rows.append({"weights": surface.num_parameters, "gradient ms (median)": 1e3 * np.median(grad_times),
                     "H·v ms (median)": 1e3 * np.median(hvp_times), "H·v / gradient min": low,
                     "median": mid, "max": high, "H·v ns per weight": 1e9 * np.min(hvp_times) / surface.num_parameters})
    return rows


def lanczos(surface, tol=1e-4):
    products = 0
    product = surface.hessian_vector_product

    def counted(v):
        nonlocal products
        products += 1
        return product(v)

    surface.hessian_vector_product = counted  # count the products the eigensolver asks for
    start = time.perf_counter()
    values, vectors = surface.extreme_eigenpairs(k=1, tol=tol)
    elapsed = time.perf_counter() - start
    surface.hessian_vector_product = product
    # an independent check: ‖H·u − λu‖ / |λ| for each returned pair
    residuals = [np.linalg.norm(product(u) - lam * u) / abs(lam) for lam, u in zip(values, vectors.T)]
    return values, elapsed, products, max(residuals)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--widths", default="16,32,64,128,256,512")
    args = parser.parse_args()
    (x, y), _ = fashion_mnist.load()
    x, y = x[:1024].reshape(1024, -1).astype("float32") / 255.0, y[:1024]

    print("1. Cost of one gradient and one Hessian-vector product (1024 images)")
    print(format_table(linear_cost([int(w) for w in args.widths.split(",")], x, y, args.repeats)), "\n")

    big = surface_for(128, x, y)
    values, elapsed, products, residual = lanczos(big)
    print(f"2. Lanczos on {big.num_parameters} weights: λ_min = {values[0]:.5g}, λ_max = {values[-1]:.5g} "
          f"in {elapsed:.2f} s, {products} Hessian-vector products, max ‖Hu − λu‖/|λ| = {residual:.1e} "
          f"(an exact H would hold {big.num_parameters ** 2 * 4 / 2**30:.0f} GiB)\n")

    small = surface_for(4, x[:256], y[:256])  # 3190 weights
    small.hessian()  # warm-up (tracing)
    start = time.perf_counter()
    exact = np.linalg.eigvalsh(small.hessian())
    exact_seconds = time.perf_counter() - start
    values, elapsed, products, _ = lanczos(small, tol=1e-6)
    print(format_table([
        {"method": "exact H + eigvalsh", "weights": small.num_parameters, "seconds": exact_seconds,
         "λ_min": exact[0], "λ_max": exact[-1]},
        {"method": f"Lanczos ({products} H·v)", "weights": small.num_parameters, "seconds": elapsed,
         "λ_min": values[0], "λ_max": values[-1]},
    ], digits=6))


if __name__ == "__main__":
    main()
