"""Benchmark: each mlcourse optimizer vs its Keras twin on the same model (ML2021 L05-L06).

For every pair, two copies of one MLP (8 Dense layers, 16 variables, identical initial weights) get
the same compiled step (tf.function) in ONE process: ours, then Keras's, alternating the order every
round after a warm-up. Two steps are timed:

* "train": forward, backward and the optimizer update (what model.fit runs);
* "update": the optimizer update alone, on fixed gradients (where the optimizers differ).

It prints min / median / max of the per-round ratios ours / Keras; the target is a median <= 1.05.
By default it measures the process's CPU time with TensorFlow on one thread (``--clock cpu
--threads 1``): on a shared machine wall time mostly measures the other processes. ``--clock wall``
and ``--threads 0`` (TensorFlow's default pools) time it as a user would on a quiet machine.
The "ops" column counts the operations in each compiled update graph (ours / Keras): equal counts
mean the two run the same graph and any ratio away from 1 is timing noise.
Optimizers without a twin (EMAMomentum, NormalizedGD, GlobalRMSProp) are timed against the nearest
Keras optimizer, marked "(ref)": their ratio is the cost of what they do differently, not a target.

    python benchmarks/optimizers.py [--rounds 21] [--repeats 20] [--min-seconds 0.1] [--only Adam,RMSProp]
                                    [--clock wall] [--threads 0]
"""

import argparse
import math
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from mlcourse import optimizers as O  # noqa: E402

# name -> (ours, Keras's twin, is a twin)
PAIRS = {
    "GradientDescent": (lambda: O.GradientDescent(0.01), lambda: keras.optimizers.SGD(0.01), True),
    "Momentum": (lambda: O.Momentum(0.01, 0.9), lambda: keras.optimizers.SGD(0.01, momentum=0.9), True),
    "Adagrad": (lambda: O.Adagrad(0.01), lambda: keras.optimizers.Adagrad(0.01), True),
    "RMSProp": (lambda: O.RMSProp(0.001), lambda: keras.optimizers.RMSprop(0.001), True),
    "Adam": (lambda: O.Adam(0.001), lambda: keras.optimizers.Adam(0.001), True),
    "EMAMomentum": (lambda: O.EMAMomentum(0.1, 0.9), lambda: keras.optimizers.SGD(0.01, momentum=0.9), False),
    "NormalizedGD": (lambda: O.NormalizedGD(0.01), lambda: keras.optimizers.SGD(0.01), False),
    "GlobalRMSProp": (lambda: O.GlobalRMSProp(0.001), lambda: keras.optimizers.RMSprop(0.001), False),
}
WIDTH, DEPTH, BATCH = 256, 8, 128


def make_model():
    keras.utils.set_random_seed(0)
    layers = [keras.layers.Dense(WIDTH, activation="relu") for _ in range(DEPTH - 1)] + [keras.layers.Dense(10)]
    return keras.Sequential([keras.Input((64,)), *layers])


def make_steps(optimizer, x, y):
    """The compiled train step and update-only step of a fresh model trained by ``optimizer``."""
    model = make_model()
    variables = model.trainable_variables
    optimizer.build(variables)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    grads = [tf.constant(np.random.default_rng(i).normal(0, 1e-3, v.shape).astype("float32"))
             for i, v in enumerate(variables)]

    @tf.function(jit_compile=False)
    def train():
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        optimizer.apply(tape.gradient(loss, variables), variables)
        return loss

    @tf.function(jit_compile=False)
    def update():
        optimizer.apply(grads, variables)
        return optimizer.iterations

    return {"train": train, "update": update}


CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}
clock = CLOCKS["cpu"]


def seconds(step, repeats):
    start = clock()
    for _ in range(repeats):
        out = step()
    _ = out.numpy()  # wait for the work to finish
    return (clock() - start) / repeats


def graph_ops(step):
    """Number of operations in the compiled graph of ``step``."""
    return len(step.get_concrete_function().graph.get_operations())


def compare(name, rounds, repeats, min_seconds, x, y):
    keras.backend.clear_session()
    ours, theirs, _ = PAIRS[name]
    steps = {"ours": make_steps(ours(), x, y), "keras": make_steps(theirs(), x, y)}
    results = {}
    for kind in ("train", "update"):
        for who in steps:  # warm-up: trace and run
            seconds(steps[who][kind], 5)
        # at least `repeats` calls, and enough of them that one measurement takes ~min_seconds
        calls = max(repeats, math.ceil(min_seconds / max(seconds(steps["keras"][kind], repeats), 1e-6)))
        times, ratios = {"ours": [], "keras": []}, []
        for i in range(rounds):
            order = ("ours", "keras") if i % 2 == 0 else ("keras", "ours")
            timing = {who: seconds(steps[who][kind], calls) for who in order}
            for who in timing:
                times[who].append(timing[who])
            ratios.append(timing["ours"] / timing["keras"])
        results[kind] = (times, ratios, f"{graph_ops(steps['ours'][kind])}/{graph_ops(steps['keras'][kind])}")
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--min-seconds", type=float, default=0.1, help="shortest single measurement (more calls)")
    parser.add_argument("--only", default="", help="comma-separated optimizer names (default all)")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu", help="process CPU time or wall time")
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow intra/inter-op threads (0: default)")
    args = parser.parse_args(argv)
    global clock
    clock = CLOCKS[args.clock]
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    names = [n for n in PAIRS if not args.only or n in args.only.split(",")]
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(BATCH, 64)).astype("float32"))
    y = tf.constant(rng.integers(0, 10, BATCH))
    print(f"{DEPTH} Dense layers of {WIDTH}, batch {BATCH}; {args.rounds} alternating rounds of >= {args.min_seconds} s; "
          f"{args.clock} clock, threads {args.threads or 'default'}; "
          f"tensorflow {tf.__version__}, keras {keras.__version__}, "
          f"devices {sorted({d.device_type for d in tf.config.list_logical_devices()})}")
    header = (f"{'optimizer':<22} {'step':<7} {'ours ms (med)':>13} {'keras ms (med)':>14} "
              f"{'ratio min':>9} {'median':>7} {'max':>7} {'ops':>9}")
    print(header)
    print("-" * len(header))
    for name in names:
        label = name if PAIRS[name][2] else f"{name} (ref)"
        for kind, (times, ratios, ops) in compare(name, args.rounds, args.repeats, args.min_seconds, x, y).items():
            print(f"{label:<22} {kind:<7} {1e3 * statistics.median(times['ours']):>13.3f} "
                  f"{1e3 * statistics.median(times['keras']):>14.3f} {min(ratios):>9.3f} "
                  f"{statistics.median(ratios):>7.3f} {max(ratios):>7.3f} {ops:>9}", flush=True)


if __name__ == "__main__":
    main()
