"""Benchmark: mlcourse MultiHeadSelfAttention vs keras.layers.MultiHeadAttention (ML2021 L11).

Forward + backward of one self-attention layer, both with the same weights, each step compiled with
``tf.function``; the two are timed in one process, alternating, after a warm-up. Prints the
min / median / max of the per-round time ratios (ours / Keras) for a few shapes. Target: ≤ 1.2×.

    python benchmarks/attention.py [--rounds 15] [--repeats 10]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from mlcourse.layers import MultiHeadSelfAttention  # noqa: E402
from mlcourse.runner import format_table  # noqa: E402

SHAPES = [  # (batch, length, width, heads)
    (32, 32, 64, 4),
    (32, 64, 128, 8),
    (16, 128, 128, 4),
]


def train_step(layer, call):
    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(call(layer, x)))
        return tape.gradient(loss, layer.trainable_variables)

    return step


def time_step(step, x, repeats):
    start = time.perf_counter()
    for _ in range(repeats):
        grads = step(x)
    _ = [g.numpy() for g in grads[:1]]
    return (time.perf_counter() - start) / repeats


def compare(batch, length, width, heads, rounds, repeats):
    keras.backend.clear_session()
    x = tf.constant(np.random.default_rng(0).normal(size=(batch, length, width)).astype("float32"))
    theirs = keras.layers.MultiHeadAttention(heads, width // heads)
    theirs(x, x)
    ours = MultiHeadSelfAttention(width, heads)
    ours.build(x.shape)
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours(x).numpy(), theirs(x, x).numpy(), atol=1e-4)
    steps = {"ours": train_step(ours, lambda layer, v: layer(v)),
             "keras": train_step(theirs, lambda layer, v: layer(v, v))}
    for step in steps.values():  # warm-up: trace and run a few times
        time_step(step, x, 3)
    times = {"ours": [], "keras": []}
    for r in range(rounds):
        order = ("ours", "keras") if r % 2 == 0 else ("keras", "ours")
        for name in order:
            times[name].append(time_step(steps[name], x, repeats))
    ratios = np.array(times["ours"]) / np.array(times["keras"])
    return {"batch×T×width/heads": f"{batch}×{length}×{width}/{heads}",
            "ours ms (median)": 1e3 * float(np.median(times["ours"])),
            "keras ms (median)": 1e3 * float(np.median(times["keras"])),
            "ratio min": float(ratios.min()), "ratio median": float(np.median(ratios)),
            "ratio max": float(ratios.max())}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    rows = [compare(*shape, args.rounds, args.repeats) for shape in SHAPES]
    print(f"forward+backward, ours / keras.layers.MultiHeadAttention, {args.rounds} alternating rounds "
          f"of {args.repeats} steps ({tf.config.list_logical_devices()[0].device_type})")
    print(format_table(rows, digits=3))


if __name__ == "__main__":
    main()
