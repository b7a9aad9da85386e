"""Benchmark: ReceptiveFieldConv2D (neuron version) vs keras.layers.Conv2D (ML2021 L09).

Both layers hold the same weights and run the same compiled step (tf.function) in ONE process,
alternating ours and Keras's after a warm-up, on the same inputs: the forward pass, and forward +
backward (gradients with respect to the input and the kernel). Prints min / median / max of the
per-round time ratios ours / Keras, and the size of the receptive-field tensor ours writes out.

Why ours is slower: it cuts every receptive field out of the image with k_h·k_w strided slices,
stacks them into a (batch, H', W', k_h·k_w·C_in) tensor — a k_h·k_w-fold copy of the image, "im2col"
— and then does one matrix product. Conv2D's kernel (oneDNN on CPU, cuDNN on GPU) never writes that
copy to memory, so it moves k_h·k_w times fewer bytes; the backward pass of ours also has to scatter
the gradient of every copy back onto the image.

    python benchmarks/convolution.py [--rounds 7] [--repeats 3]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from mlcourse.layers import ReceptiveFieldConv2D  # noqa: E402

# name: (input shape, filters, kernel_size, strides, padding)
CASES = {
    "28x28x1 -> 32, 3x3 same": ((64, 28, 28, 1), 32, 3, 1, "same"),
    "14x14x32 -> 64, 3x3 same": ((64, 14, 14, 32), 64, 3, 1, "same"),
    "28x28x16 -> 32, 3x3 s2 valid": ((64, 28, 28, 16), 32, 3, 2, "valid"),
    "14x14x32 -> 64, 5x5 same": ((64, 14, 14, 32), 64, 5, 1, "same"),
}


def make_steps(layer, x):

    @tf.function
    def forward(x):
        return layer(x)

    @tf.function
    def forward_backward(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(tf.square(layer(x)))
        return tape.gradient(loss, [x, layer.kernel])

    return {"forward": forward, "forward+backward": forward_backward}


def seconds(step, x, repeats):
    start = time.perf_counter()
    for _ in range(repeats):
        out = step(x)
    _ = [o.numpy() for o in tf.nest.flatten(out)]  # wait for the work to finish
    return (time.perf_counter() - start) / repeats


def compare(shape, filters, kernel_size, strides, padding, rounds, repeats):
    keras.backend.clear_session()
    x = tf.constant(np.random.default_rng(0).normal(size=shape).astype("float32"))
    conv = keras.layers.Conv2D(filters, kernel_size, strides=strides, padding=padding)
    ours = ReceptiveFieldConv2D(filters, kernel_size, strides=strides, padding=padding)
    conv.build(shape)
    ours.build(shape)
    ours.set_weights(conv.get_weights())
    assert np.allclose(ours(x), conv(x), atol=1e-4), "the two layers disagree"
    steps = {"ours": make_steps(ours, x), "keras": make_steps(conv, x)}
    results = {}
    for mode in ("forward", "forward+backward"):
        for name in steps:  # warm-up: trace and run a few times
            seconds(steps[name][mode], x, 2)
        ratios, times = [], {"ours": [], "keras": []}
        for i in range(rounds):
            order = ("ours", "keras") if i % 2 == 0 else ("keras", "ours")
            timing = {name: seconds(steps[name][mode], x, repeats) for name in order}
            for name, value in timing.items():
                times[name].append(value)
            ratios.append(timing["ours"] / timing["keras"])
        results[mode] = (ratios, times)
    fields = ours.compute_output_shape(shape)[:3] + (np.prod(ours.kernel_size) * shape[-1],)
    return results, 4 * np.prod(fields) / 2**20, 4 * np.prod(shape) / 2**20


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"ReceptiveFieldConv2D / Conv2D, batch 64, {args.rounds} alternating rounds x {args.repeats} steps, "
          f"tensorflow {tf.__version__}, keras {keras.__version__}, "
          f"devices {[d.device_type for d in tf.config.list_logical_devices()]}")
    header = (f"{'layer':<30} {'pass':<17} {'ours ms':>8} {'keras ms':>9} {'ratio min':>10} {'median':>7} "
              f"{'max':>7} {'fields MiB':>11} {'image MiB':>10}")
    print(header)
    print("-" * len(header))
    for label, case in CASES.items():
        results, field_mib, image_mib = compare(*case, args.rounds, args.repeats)
        for mode, (ratios, times) in results.items():
            print(f"{label:<30} {mode:<17} {1e3 * statistics.median(times['ours']):>8.2f} "
                  f"{1e3 * statistics.median(times['keras']):>9.2f} {min(ratios):>10.2f} "
                  f"{statistics.median(ratios):>7.2f} {max(ratios):>7.2f} {field_mib:>11.1f} {image_mib:>10.1f}")


if __name__ == "__main__":
    main()
