"""Benchmark: mlcourse BatchNorm vs keras.layers.BatchNormalization, forward + backward (ML2021 L08).

Both layers run the same compiled training step (tf.function: output, loss, gradients with respect to
the input, gamma and beta, moving-statistics update) in ONE process, alternating custom and Keras
after a warm-up, on the same inputs. Prints min / median / max of the per-round time ratios
custom / Keras; the target is a median <= 1.2.

    python benchmarks/batchnorm.py [--rounds 15] [--repeats 10]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from mlcourse.layers import BatchNorm  # noqa: E402

SHAPES = {"dense (512, 1024)": (512, 1024), "conv (64, 28, 28, 32)": (64, 28, 28, 32)}


def make_step(layer, shape):
    layer.build(shape)
    weights = tf.constant(np.random.default_rng(1).normal(size=shape).astype("float32"))

    @tf.function(jit_compile=False)
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x, training=True) * weights)
        return tape.gradient(loss, [x, layer.gamma, layer.beta])

    return step


def seconds(step, x, repeats):
    start = time.perf_counter()
    for _ in range(repeats):
        out = step(x)
    _ = [o.numpy() for o in out]  # wait for the work to finish
    return (time.perf_counter() - start) / repeats


def compare(shape, rounds, repeats):
    keras.backend.clear_session()
    x = tf.constant(np.random.default_rng(0).normal(2.0, 3.0, size=shape).astype("float32"))
    steps = {"custom": make_step(BatchNorm(), shape), "keras": make_step(keras.layers.BatchNormalization(), shape)}
    for step in steps.values():  # warm-up: trace and run a few times
        seconds(step, x, 3)
    ratios, times = [], {"custom": [], "keras": []}
    for i in range(rounds):
        order = ("custom", "keras") if i % 2 == 0 else ("keras", "custom")
        timing = {name: seconds(steps[name], x, repeats) for name in order}
        for name in timing:
            times[name].append(timing[name])
        ratios.append(timing["custom"] / timing["keras"])
    return ratios, times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args(argv)
    print(f"BatchNorm forward+backward, {args.rounds} alternating rounds x {args.repeats} steps, "
          f"tensorflow {tf.__version__}, keras {keras.__version__}, devices {[d.device_type for d in tf.config.list_logical_devices()]}")
    header = f"{'input':<24} {'custom ms (med)':>16} {'keras ms (med)':>15} {'ratio min':>10} {'median':>8} {'max':>8}"
    print(header)
    print("-" * len(header))
    for label, shape in SHAPES.items():
        ratios, times = compare(shape, args.rounds, args.repeats)
        print(f"{label:<24} {1e3 * statistics.median(times['custom']):>16.2f} "
              f"{1e3 * statistics.median(times['keras']):>15.2f} {min(ratios):>10.3f} "
              f"{statistics.median(ratios):>8.3f} {max(ratios):>8.3f}")


if __name__ == "__main__":
    main()
