"""Lecture 11: what self-attention costs as the sequence grows — softmax vs linear attention, measured.

The lecture ends with "how to make self-attention faster" (Efficient Transformers): softmax attention
builds a T × T attention matrix, so one step should grow like T² in time and memory; linear attention
(Katharopoulos et al. 2020, φ(x) = elu(x) + 1) regroups φ(q)ᵀ(Σ φ(k) vᵀ) and never builds it, so it
should grow like T. Here that is measured, not assumed: one causal training step (forward + gradients
of all weights and the inputs) of ``MultiHeadSelfAttention``, of ``LinearAttention`` in its parallel
form, and of its recurrent ("Transformers are RNNs") form, timed (median process CPU time, or wall
time, of a step after a warm-up) and its memory read from TensorFlow's CPU allocator (peak bytes
allocated during the step; see ``mlcourse.analysis.attention_cost``). Slopes are fitted on log–log
axes over the longer half of the lengths.

Full mode: T = 64 … 4096 (softmax, linear; 5 timed steps each) and 16 … 512 (recurrent), width 64,
4 heads, batch 1 (a few minutes on 2 CPU cores; softmax at T = 4096 allocates about 0.8 GB). Quick:
T = 64 … 1024 and 8, 16 (the recurrent form's unrolled step is slow to trace), 3 timed steps.
Timings on a shared machine are noisy; compare slopes, not milliseconds. TensorBoard: the tables and
the slopes (Text), the log–log plots (Images), and ms and MiB against T (Scalars, step = T).
"""

import numpy as np

from mlcourse import runner

TUTORIAL = {
    "id": "l11-attention-cost",
    "lecture": "11",
    "title": "Attention cost: softmax vs linear as T grows",
}


def powers_of_two(low, high):
    return [2**k for k in range(int(np.log2(low)), int(np.log2(high)) + 1)]


def slopes(rows, min_length, clock):
    """Fitted log–log slopes of time and memory for one kind (memory: the non-zero readings only)."""
    from mlcourse.analysis.attention_cost import fit_slope

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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(12, 4.5))
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
    ylabel = "CPU ms per step (median)" if clock == "cpu_seconds" else "wall ms per step (median)"
    for axis, ylabel in zip(axes, (ylabel, "peak MiB allocated per step"), strict=False):
        axis.set(xscale="log", yscale="log", xlabel="sequence length T", ylabel=ylabel)
        axis.set_xscale("log", base=2)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=8)
    axes[0].set_title("time: slope 2 = quadratic, 1 = linear")
    axes[1].set_title("memory (TensorFlow CPU allocator)")
    return figure


def measure_kind(run, args, kind, lengths, clock):
    """Measure one kind at every length, log seconds and MiB against T as scalars, fit the slopes."""
    import tensorflow as tf

    from mlcourse.analysis.attention_cost import measure

    rows = run.result(
        f"cost/{kind}",
        lambda: measure(
            kind,
            lengths,
            batch=args.batch,
            width=args.width,
            heads=args.heads,
            repeats=args.repeats,
            backward=not args.forward_only,
            seed=args.seed,
        ),
    )  # a resumed run keeps what it measured
    with run.writer.as_default():
        for row in rows:
            tf.summary.scalar(
                f"cost/{kind}/{args.clock}_ms_per_step", row[clock] * 1e3, step=row["length"]
            )
            tf.summary.scalar(
                f"cost/{kind}/peak_MiB", row["peak_bytes"] / 2**20, step=row["length"]
            )
    fit = slopes(
        rows, lengths[(len(lengths) - 1) // 2], clock
    )  # the longer half: short steps are fixed costs
    print(f"  {kind}: {len(lengths)} lengths measured, {args.clock} time slope {fit[0][0]:.2f}")
    return rows, fit


def main(argv=None):
    parser = runner.tutorial_parser(TUTORIAL, __doc__)
    parser.add_argument(
        "--max-length",
        type=runner.positive_int,
        default=None,
        help="longest T for softmax and linear (default 4096; quick 1024)",
    )
    parser.add_argument(
        "--recurrent-max-length",
        type=runner.positive_int,
        default=None,
        help="longest T for the recurrent form (default 512; quick 16)",
    )
    parser.add_argument(
        "--width", type=runner.positive_int, default=64, help="model width (default 64)"
    )
    parser.add_argument(
        "--heads", type=runner.positive_int, default=4, help="attention heads (default 4)"
    )
    parser.add_argument(
        "--batch", type=runner.positive_int, default=1, help="per-replica batch (default 1)"
    )
    parser.add_argument(
        "--repeats", type=runner.positive_int, default=None, help="timed steps per T (5; quick 3)"
    )
    parser.add_argument("--forward-only", action="store_true", help="time the forward pass only")
    parser.add_argument(
        "--clock",
        choices=("cpu", "wall"),
        default="cpu",
        help="time to plot and fit: process CPU time (default; steadier on a shared machine) or wall",
    )
    args = parser.parse_args(argv)
    args.max_length = args.max_length or (1024 if args.quick else 4096)
    args.recurrent_max_length = args.recurrent_max_length or (16 if args.quick else 512)
    args.repeats = args.repeats or (3 if args.quick else 5)
    clock = "cpu_seconds" if args.clock == "cpu" else "seconds"
    with runner.Run(TUTORIAL, args) as run:
        plan = {
            "softmax": powers_of_two(64, args.max_length),
            "linear": powers_of_two(64, args.max_length),
            "recurrent": powers_of_two(8 if run.quick else 16, args.recurrent_max_length),
        }
        results, fits, table, slope_rows = {}, {}, [], []
        for kind, lengths in plan.items():
            results[kind], fits[kind] = measure_kind(run, args, kind, lengths, clock)
            (time_slope, _), memory_fit, fitted = fits[kind]
            slope_rows.append(
                {
                    "kind": kind,
                    "fitted on T": f"{min(fitted)}-{max(fitted)}",
                    f"{args.clock} time slope": time_slope,
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
        step = "forward" if args.forward_only else "forward + backward"
        run.table(f"One {step} step: median time and peak allocated memory", table)
        run.table("Fitted log-log slopes (2 = quadratic, 1 = linear)", slope_rows)
        soft, lin = results["softmax"][-1], results["linear"][-1]
        run.text(
            "summary/longest_sequence",
            f"At T = {soft['length']}: softmax takes {soft[clock] / lin[clock]:.1f}x the {args.clock} time of "
            f"linear attention and allocates {soft['peak_bytes'] / max(lin['peak_bytes'], 1):.1f}x the memory "
            f"({soft['peak_bytes'] / 2**20:.0f} MiB vs {lin['peak_bytes'] / 2**20:.0f} MiB).",
        )
        run.figure("cost_vs_length", cost_figure(results, fits, clock))


if __name__ == "__main__":
    runner.cli_main(main)
