"""``mlcourse bench``: every custom-vs-Keras comparison, timed side by side in one process.

Each comparison builds two compiled steps, *ours* and a *reference* (Keras's twin, or the other side
of a lecture's story: softmax vs linear attention, an exact Hessian vs Lanczos). The harness warms
both up (tracing, first allocations), picks a number of calls so that one measurement lasts at least
``--min-seconds``, then measures them in alternating order (ours first on even rounds, the reference
first on odd ones), so that load from the rest of the machine falls on both alike. Each round gives
one ratio ours / reference; the table shows its min / median / max and compares the median with the
comparison's target:

=====================  ==========================================  =======
group                  ours / reference                            target
=====================  ==========================================  =======
optimizers             each mlcourse optimizer / its Keras twin    ≤ 1.05
normalization          BatchNorm / keras.layers.BatchNormalization ≤ 1.2
attention              MultiHeadSelfAttention / MultiHeadAttention ≤ 1.2
convolution            ReceptiveFieldConv2D / Conv2D               story
attention-cost         LinearAttention / softmax, by length        story
hessian                H·v / gradient, Lanczos / exact, by size    story
=====================  ==========================================  =======

"story" rows have no target: their ratios are what a lecture explains (the im2col copy, quadratic
against linear cost, O(n) Hessian-vector products). Optimizers without a Keras twin are timed
against the nearest Keras optimizer as a story too.

By default the clock is the process's CPU time with TensorFlow on one thread: on a shared machine
wall time mostly measures the other processes (``--clock wall --threads 0`` times it as a user would
on a quiet one). The table is printed and written as JSON; the exit status is 1 when a target is
missed.

    mlcourse bench [--only GROUP[,GROUP]] [--smoke] [--rounds N] [--min-seconds S]
                   [--clock cpu|wall] [--threads N] [--json PATH]

TensorFlow backend only: importing it on another Keras backend raises ``BackendError``.
"""

import dataclasses
import datetime
import importlib
import json
import os
import statistics
import sys
import time

import keras
import numpy as np
import tensorflow as tf

from mlcourse import options
from mlcourse.backends import require_tensorflow
from mlcourse.tables import format_table

require_tensorflow("mlcourse.bench")

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__all__ = ["Comparison", "forward_backward", "main", "measure", "run", "verdict"]

#: group name -> module of mlcourse.bench that defines ``comparisons(smoke)``.
#: ``--clock``: process CPU time or wall time (the names of ``options.BENCH_CLOCKS``).
CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}


@dataclasses.dataclass
class Comparison:
    """One row of the table.

    Attributes:
        group: a key of ``options.BENCH_GROUPS``.
        name: what is compared, e.g. ``"Adam train step"``.
        build: a function returning ``(ours, reference)``, two callables without arguments that each
            run one step and return a tensor (or a structure of them, or a NumPy value); or
            ``(ours, reference, note)`` with a short note for the table (e.g. graph sizes).
        target: the largest acceptable median ratio ours / reference, or ``None`` for a story row.
        ours, reference: short labels of the two sides.
        calls: calls per measurement; ``None`` picks enough for ``--min-seconds``.
        rounds: at most this many rounds (for steps that take seconds); ``None``: ``--rounds``.
    """

    group: str
    name: str
    build: object
    target: float = None
    ours: str = "mlcourse"
    reference: str = "keras"
    calls: int = None
    rounds: int = None


def forward_backward(call, sources):
    """A compiled training-like step: ``L = Σ call()²`` and its gradients with respect to
    ``sources`` (variables, or an input tensor, which is watched)."""

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            tape.watch(
                [
                    source
                    for source in sources
                    if tf.is_tensor(source) and not hasattr(source, "assign")
                ]
            )
            loss = tf.reduce_sum(tf.square(call()))
        return tape.gradient(loss, sources)

    return step


def _finish(output):
    """Wait for a step's work: read its first result back."""
    flat = tf.nest.flatten(output)
    if flat:
        np.asarray(flat[0])


def _seconds(step, calls, clock):
    start = clock()
    for _ in range(calls):
        output = step()
    _finish(output)
    return (clock() - start) / calls


def measure(
    ours, reference, rounds=7, min_seconds=0.05, calls=None, clock=time.process_time, max_calls=200
):
    """Time two steps alternately after a warm-up.

    Returns:
        ``{"ours": [seconds per call, ...], "reference": [...], "ratios": [...], "calls": n}``,
        one entry per round.
    """
    for step in (ours, reference):  # warm-up: trace, allocate, run
        _seconds(step, 2, clock)
    if calls is None:
        slowest = max(_seconds(ours, 1, clock), _seconds(reference, 1, clock), 1e-6)
        calls = int(min(max_calls, max(1, -(-min_seconds // slowest))))
    times = {"ours": [], "reference": []}
    for round_ in range(rounds):
        order = ("ours", "reference") if round_ % 2 == 0 else ("reference", "ours")
        for side in order:
            times[side].append(_seconds(ours if side == "ours" else reference, calls, clock))
    ratios = [a / b for a, b in zip(times["ours"], times["reference"], strict=True)]
    return {**times, "ratios": ratios, "calls": calls}


def verdict(median_ratio, target):
    """``"ok"``, ``"MISS"`` (median above the target) or ``"story"`` (no target)."""
    if target is None:
        return "story"
    return "ok" if median_ratio <= target else "MISS"


def _row(comparison, timing, note=""):
    ratios = timing["ratios"]
    median = statistics.median(ratios)
    return {
        "group": comparison.group,
        "comparison": comparison.name,
        "ours / reference": f"{comparison.ours} / {comparison.reference}",
        "ours ms": 1e3 * statistics.median(timing["ours"]),
        "reference ms": 1e3 * statistics.median(timing["reference"]),
        "ratio min": min(ratios),
        "ratio median": median,
        "ratio max": max(ratios),
        "target": "-" if comparison.target is None else f"<= {comparison.target:g}",
        "verdict": verdict(median, comparison.target),
        "note": note,
        "rounds": len(ratios),
        "calls": timing["calls"],
    }


def _set_threads(threads):
    if not threads:
        return "default"
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
        return str(threads)
    except RuntimeError:  # the runtime already started (e.g. inside a test process)
        return "default (TensorFlow had already started)"


COLUMNS = [
    "group",
    "comparison",
    "ours / reference",
    "ours ms",
    "reference ms",
    "ratio min",
    "ratio median",
    "ratio max",
    "target",
    "verdict",
    "note",
]


def main(argv=None):
    """Parse ``mlcourse bench`` arguments (``options.bench_parser``) and ``run`` them."""
    return run(options.bench_parser().parse_args(argv))


def run(args):
    """Run the chosen groups, print one table, write JSON; returns 1 if a target was missed."""
    threads = _set_threads(args.threads)
    # Fewer, shorter rounds left identical graphs 1.08x apart.
    rounds = args.rounds or (3 if args.smoke else 15)
    min_seconds = args.min_seconds or (0.01 if args.smoke else 0.2)
    environment = {
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "clock": args.clock,
        "threads": threads,
        "rounds": rounds,
        "min_seconds": min_seconds,
        "smoke": args.smoke,
        "devices": sorted({d.device_type for d in tf.config.list_logical_devices()}),
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
    }
    print(
        f"[mlcourse] bench: {', '.join(args.only)}; {rounds} alternating rounds of >= "
        f"{min_seconds} s; {args.clock} clock, threads {threads}; tensorflow {tf.__version__}, "
        f"keras {keras.__version__}, devices {environment['devices']}",
        flush=True,
    )
    rows = []
    for group in args.only:
        rows += _run_group(group, args.smoke, rounds, min_seconds, CLOCKS[args.clock])
    stamp = f"bench-{datetime.datetime.now():%Y%m%d-%H%M%S}.json"
    path = args.json or options.default_logdir() / "bench" / stamp
    return _report(rows, environment, path)


def _run_group(group, smoke, rounds, min_seconds, clock):
    """Time every comparison of one group; one printed line and one row each."""
    rows = []
    module = importlib.import_module(f"mlcourse.bench.{options.BENCH_GROUPS[group]}")
    for comparison in module.comparisons(smoke):
        keras.backend.clear_session()
        ours, reference, *note = comparison.build()
        timing = measure(
            ours,
            reference,
            min(rounds, comparison.rounds or rounds),
            min_seconds,
            comparison.calls,
            clock,
        )
        row = _row(comparison, timing, *note)
        rows.append(row)
        print(
            f"  {group:<15} {comparison.name:<44} median {row['ratio median']:.3f}  "
            f"{row['verdict']}",
            flush=True,
        )
    return rows


def _report(rows, environment, path):
    """Print the table and the misses, write the JSON; 1 if a target was missed, else 0."""
    print("\n" + format_table(rows, COLUMNS, digits=3))
    missed = [row for row in rows if row["verdict"] == "MISS"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"environment": environment, "rows": rows}, indent=1))
    on_target = sum(r["verdict"] == "ok" for r in rows)
    print(f"\n{len(rows)} comparisons, {on_target} on target, {len(missed)} missed")
    for r in missed:
        print(
            f"  MISS: {r['group']} / {r['comparison']}: median {r['ratio median']:.3f}, "
            f"target {r['target']}"
        )
    print(f"JSON: {path}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
