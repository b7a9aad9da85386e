"""Lecture 11: what self-attention costs as the sequence grows — softmax vs linear attention,
measured.

The lecture ends with "how to make self-attention faster" (Efficient Transformers): softmax
attention builds a T × T attention matrix, so one step should grow like T² in time and memory;
linear attention (Katharopoulos et al. 2020, φ(x) = elu(x) + 1) regroups φ(q)ᵀ(Σ φ(k) vᵀ) and never
builds it, so it should grow like T. Here that is measured, not assumed: one causal training step
(forward + gradients of all weights and the inputs) of ``MultiHeadSelfAttention``, of
``LinearAttention`` in its parallel form, and of its recurrent ("Transformers are RNNs") form, timed
(median process CPU time, or wall time, of a step after a warm-up) and its memory read from
TensorFlow's CPU allocator (peak bytes allocated during the step; see
``mlcourse.analysis.attention_cost``). Slopes are fitted on log–log axes over the longer half of the
lengths.

Full mode: T = 64 … 4096 (softmax, linear; 5 timed steps each) and 16 … 512 (recurrent), width 64,
4 heads, batch 1 (a few minutes on 2 CPU cores; softmax at T = 4096 allocates about 0.8 GB). Quick:
T = 64 … 1024 and 8, 16 (the recurrent form's unrolled step is slow to trace), 3 timed steps.
Timings on a shared machine are noisy; compare slopes, not milliseconds. TensorBoard: the tables and
the slopes (Text), the log–log plots (Images), and ms and MiB against T (Scalars, step = T).
"""

import keras
import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure

from mlcourse import runner, verdicts
from mlcourse.analysis.attention_cost import fit_slope, measure
from mlcourse.layers import LinearAttention

TUTORIAL = {
    "id": "l11-attention-cost",
    "lecture": "11",
    "title": "Attention cost: softmax vs linear as T grows",
}
OPTIONS = {
    "max_length": {
        "kind": "count",
        "smoke": 1024,
        "lecture": 2048,
        "full": 4096,
        "help": "longest T for softmax and linear",
    },
    "recurrent_max_length": {
        "kind": "count",
        "smoke": 16,
        "lecture": 64,
        "full": 512,
        "help": "longest T for the recurrent form",
    },
    "units": {"kind": "count", "default": 64, "help": "model width"},
    "heads": {"kind": "count", "default": 4, "help": "attention heads"},
    "batch": {"kind": "count", "default": 1, "help": "sequences per step (per replica)"},
    "repeats": {"kind": "count", "smoke": 3, "default": 5, "help": "timed steps per T"},
    "forward_only": {"kind": "flag", "help": "time the forward pass only"},
    "clock": {
        "kind": "choice",
        "choices": ["cpu", "wall"],
        "default": "cpu",
        "help": "time to plot and fit: process CPU time (steadier on a shared machine) or wall",
    },
}


def powers_of_two(low, high):
    return [2**k for k in range(int(np.log2(low)), int(np.log2(high)) + 1)]


def slopes(rows, min_length, clock):
    """Fitted log–log slopes of time and memory for one kind (memory:
    the non-zero readings only).
    """
    long = [r for r in rows if r["length"] >= min_length]
    memory = [r for r in long if r["peak_bytes"] > 0]
    time_slope = fit_slope([r["length"] for r in long], [r[clock] for r in long])
    memory_slope = (
        fit_slope([r["length"] for r in memory], [r["peak_bytes"] for r in memory])
        if len({r["length"] for r in memory}) >= 2
        else None
    )
    return time_slope, memory_slope, [r["length"] for r in long]


def cost_figure(results, fits, clock):
    figure = Figure(figsize=(12, 4.5))
    axes = figure.subplots(1, 2)
    for i, (kind, rows) in enumerate(results.items()):
        time_fit, memory_fit, fitted = fits[kind]
        lengths = np.array([r["length"] for r in rows], float)
        for axis, key, scale, fit in (
            (axes[0], clock, 1e3, time_fit),
            (axes[1], "peak_bytes", 2.0**-20, memory_fit),
        ):
            values = np.array([r[key] for r in rows], float) * scale
            shown = (
                values > 0
            )  # log axes; a zero memory reading is below the allocator's resolution
            axis.plot(lengths[shown], values[shown], "o-", color=f"C{i}", label=kind)
            if fit is not None:
                grid = np.array([min(fitted), max(fitted)], float)
                axis.plot(
                    grid,
                    np.exp(fit[1]) * grid ** fit[0] * scale,
                    "--",
                    color=f"C{i}",
                    alpha=0.6,
                    label=f"{kind}: fitted slope {fit[0]:.2f}",
                )
    time_label = (
        "CPU ms per step (median)" if clock == "cpu_seconds" else "wall ms per step (median)"
    )
    for axis, label in zip(axes, (time_label, "peak MiB allocated per step"), strict=True):
        axis.set(xscale="log", yscale="log", xlabel="sequence length T", ylabel=label)
        axis.set_xscale("log", base=2)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=8)
    axes[0].set_title("time: slope 2 = quadratic, 1 = linear")
    axes[1].set_title("memory (TensorFlow CPU allocator)")
    return figure


def measure_kind(run, config, kind, lengths, clock):
    """Measure one kind at every length, log seconds and MiB against T as scalars,
    fit the slopes.
    """
    rows = run.result(
        f"cost/{kind}",
        lambda: measure(
            kind,
            lengths,
            batch=config.batch,
            units=config.units,
            heads=config.heads,
            repeats=config.repeats,
            backward=not config.forward_only,
            seed=config.seed,
        ),
    )  # a resumed run keeps what it measured
    with run.writer.as_default():
        for row in rows:
            tf.summary.scalar(
                f"cost/{kind}/{config.clock}_ms_per_step", row[clock] * 1e3, step=row["length"]
            )
            tf.summary.scalar(
                f"cost/{kind}/peak_MiB", row["peak_bytes"] / 2**20, step=row["length"]
            )
    fit = slopes(
        rows, lengths[(len(lengths) - 1) // 2], clock
    )  # the longer half: short steps are fixed costs
    print(f"  {kind}: {len(lengths)} lengths measured, {config.clock} time slope {fit[0][0]:.2f}")
    return rows, fit


def judge(run, config, results, fits, clock):
    """Softmax vs linear: time slopes per repeat (paired), memory slopes from the medians."""
    key = "all_cpu_seconds" if clock == "cpu_seconds" else "all_seconds"

    def time_slopes(kind):
        rows = [r for r in results[kind] if r["length"] >= min(fits[kind][2])]
        return [
            fit_slope([r["length"] for r in rows], [r[key][i] for r in rows])[0]
            for i in range(config.repeats)
        ]

    soft, linear = time_slopes("softmax"), time_slopes("linear")
    soft_memory, linear_memory = fits["softmax"][1], fits["linear"][1]
    memory_ok = (
        soft_memory is not None
        and linear_memory is not None
        and soft_memory[0] > 1.6
        and linear_memory[0] < 1.3
    )
    memory_text = (
        f"memory slope softmax {soft_memory[0]:.2f}, linear {linear_memory[0]:.2f}"
        if soft_memory and linear_memory
        else "memory too small to read at these lengths"
    )
    run.verdict(
        "Self-attention's cost grows quadratically with the sequence length (the T × T attention "
        "matrix); linear attention's grows linearly",
        f"log-log slopes over T = {min(fits['softmax'][2])}-{max(fits['softmax'][2])}: "
        f"{config.clock} time softmax {verdicts.spread(soft)}, linear {verdicts.spread(linear)} "
        f"(one fit per repeat); {memory_text} (2 = quadratic, 1 = linear)",
        verdicts.all_of([verdicts.exceeds(soft, linear), memory_ok]),
        seeds=config.repeats,
        reason="at short lengths fixed costs flatten the slopes; --full measures up to T = 4096",
    )


def rnn_form(run, config):
    """ "Transformers are RNNs": the recurrent form of causal linear attention gives the outputs
    of its parallel form, one position at a time with a fixed-size state."""
    keras.utils.set_random_seed(config.seed)
    layer = LinearAttention(config.units, config.heads, causal=True)
    inputs = np.random.default_rng(config.seed).normal(size=(2, 24, config.units)).astype("float32")
    parallel = keras.ops.convert_to_numpy(layer(inputs))
    recurrent = keras.ops.convert_to_numpy(layer.recurrent(inputs))
    gap = float(np.abs(parallel - recurrent).max())
    run.verdict(
        "Self-attention plus a little becomes an RNN (Katharopoulos et al.): causal linear "
        "attention computed step by step with a fixed-size state gives the outputs of its "
        "parallel form",
        f"LinearAttention({config.units}, {config.heads} heads) on 2 random sequences of 24 "
        f"vectors: largest difference between the two forms {gap:.1e} (outputs of size about "
        f"{np.abs(parallel).mean():.2f})",
        bool(gap < 1e-4 * max(1.0, float(np.abs(parallel).max()))),
    )


def main(config):
    clock = "cpu_seconds" if config.clock == "cpu" else "seconds"
    with runner.Run(TUTORIAL, config) as run:
        plan = {
            "softmax": powers_of_two(64, config.max_length),
            "linear": powers_of_two(64, config.max_length),
            "recurrent": powers_of_two(8, config.recurrent_max_length),
        }
        results, fits, table, slope_rows = {}, {}, [], []
        for kind, lengths in plan.items():
            results[kind], fits[kind] = measure_kind(run, config, kind, lengths, clock)
            (time_slope, _), memory_fit, fitted = fits[kind]
            slope_rows.append(
                {
                    "kind": kind,
                    "fitted on T": f"{min(fitted)}-{max(fitted)}",
                    f"{config.clock} time slope": time_slope,
                    "memory slope": memory_fit[0] if memory_fit else "-",
                }
            )
            table += [
                {
                    "kind": kind,
                    "T": r["length"],
                    "wall ms/step": r["seconds"] * 1e3,
                    "CPU ms/step": r["cpu_seconds"] * 1e3,
                    "peak MiB": r["peak_bytes"] / 2**20,
                }
                for r in results[kind]
            ]
        step = "forward" if config.forward_only else "forward + backward"
        run.table(f"One {step} step: median time and peak allocated memory", table)
        run.table("Fitted log-log slopes (2 = quadratic, 1 = linear)", slope_rows)
        soft, lin = results["softmax"][-1], results["linear"][-1]
        run.text(
            "summary/longest_sequence",
            f"At T = {soft['length']}: softmax takes {soft[clock] / lin[clock]:.1f}x the "
            f"{config.clock} time of linear attention and allocates "
            f"{soft['peak_bytes'] / max(lin['peak_bytes'], 1):.1f}x the memory "
            f"({soft['peak_bytes'] / 2**20:.0f} MiB vs {lin['peak_bytes'] / 2**20:.0f} MiB).",
        )
        run.figure("cost_vs_length", cost_figure(results, fits, clock))
        judge(run, config, results, fits, clock)
        rnn_form(run, config)


if __name__ == "__main__":
    runner.script(main, TUTORIAL, OPTIONS, __doc__)
