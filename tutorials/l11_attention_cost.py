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

# %% [markdown]
# **Lecture 11**, "自注意力機制 (Self-attention) (下)" (self-attention, part 2), the slides on
# truncated self-attention for long sequences, self-attention vs RNN ("self-attention plus a
# little becomes an RNN") and the closing pointer to Efficient Transformers.
#
# Softmax attention compares every query with every key: the $T \times T$ matrix $\alpha'$ costs
# $O(T^2 d)$ time and $O(T^2)$ memory. Linear attention (Katharopoulos et al. 2020) replaces
# $\exp(q \cdot k)$ by $\phi(q)^\top \phi(k)$ with $\phi(x) = \mathrm{elu}(x) + 1$ and regroups
# the sums, which are computed once, in $O(T d^2)$:
#
# $$b^i = \frac{\phi(q^i)^\top \sum_j \phi(k^j)\, v^{j\top}}{\phi(q^i)^\top \sum_j \phi(k^j)}.$$
#
# Made causal ($j \le i$) the sums are running sums, $S_t = S_{t-1} + \phi(k^t)\, v^{t\top}$ and
# $z_t = z_{t-1} + \phi(k^t)$, with $b^t = \phi(q^t)^\top S_t / \phi(q^t)^\top z_t$: an RNN whose
# state $(S_t, z_t)$ has a fixed size.
#
# **The question from the course notes:** the notes ask none here. They claim that on long
# sequences such as speech attending to everything costs too much (hence truncated
# self-attention), point to Efficient Transformers for making it faster, and note that
# self-attention plus a little becomes an RNN (arXiv 2006.16236). This notebook tests the cost
# claim and the RNN one.
#
# **What this notebook shows.** One causal training step (forward and gradients) of softmax
# `MultiHeadSelfAttention`, of `LinearAttention` in its parallel form and of its recurrent form is
# timed at $T$ = 64, 128, … up to `max_length` (2048 in the lecture run; the recurrent form 8 … 64),
# and its peak memory read from TensorFlow's allocator. Slopes of log cost against log $T$ are
# fitted over the longer half of the lengths (2 = quadratic, 1 = linear). It judges: softmax
# attention's cost grows quadratically and linear attention's linearly; and the recurrent form
# gives the parallel form's outputs.

# %% [markdown]
# Away from a machine set up with `make setup` (a laptop, Colab), the next cell fetches the data
# sets that are missing, checksummed; where they are present it only checks them. (In the script
# this line is a comment.)

# %%
# %run -m mlcourse data prepare --download

# %%
import keras
import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure

from mlcourse import runner, verdicts
from mlcourse.analysis.attention_cost import fit_slope, measure
from mlcourse.layers import LinearAttention

# %% [markdown]
# The run's settings. A script reads its command-line flags instead (`--smoke`, `--full`,
# `--seed`, `--logdir`, `--repeats 9` ...); here, change them and run the notebook again.
# `smoke` is a plumbing check whose numbers mean nothing; `lecture` shows the lecture's effect in a
# few minutes on 2 CPU cores; `full` gives the headline figures.

# %% tags=["parameters"]
mode = "lecture"  # "smoke" (--smoke), "lecture" (no flag) or "full" (--full)
seed = 0  # --seed
logdir = None  # --logdir; None: $MLCOURSE_LOGDIR, else the repository's logs/
options = {}  # this tutorial's options (listed below), e.g. {"repeats": 9} for --repeats 9

# %% [markdown]
# The tutorial's metadata and options, each with its value in the three modes
# (`mlcourse run l11-attention-cost --help` lists them too).

# %%
TUTORIAL = {
    "id": "l11-attention-cost",
    "lecture": "11",
    "title": "Attention cost: softmax vs linear as T grows",
    "alone": True,  # its verdicts rest on timings: `mlcourse run all` runs nothing beside it
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


# %% [markdown]
# ## Lengths and slopes
#
# `powers_of_two` lists the lengths. `slopes` fits $\log \text{cost} = s \log T + c$
# (`fit_slope`, least squares) on the lengths from `min_length` up, for time and for memory (the
# memory fit uses only non-zero readings: the allocator does not show small allocations).


# %%
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


# %% [markdown]
# The figure: time and memory per step against $T$ on log–log axes, one colour per form, the
# fitted lines dashed. On such axes a slope of 2 is quadratic growth and a slope of 1 linear.


# %%
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


# %% [markdown]
# ## Measuring one form
#
# `measure_kind` times one form at every length with `mlcourse.analysis.attention_cost.measure`
# (`repeats` timed steps after a warm-up that traces the step; the median), keeps the numbers in
# the run record (`run.result`: a resumed run does not measure again), logs milliseconds and MiB
# as scalars with the step set to $T$, and fits the slopes over the longer half of the lengths:
# short steps are mostly fixed costs. It prints one line per form with its time slope.


# %%
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


# %% [markdown]
# ## The verdict on cost
#
# `judge` fits one time slope per repeat for softmax and for linear attention (the repeats are
# paired) and reads the memory slopes from the medians. The claim holds if softmax's time slopes
# exceed linear's and the memory slopes are above 1.6 (softmax) and below 1.3 (linear). Timings
# on a shared machine are noisy: compare slopes, not milliseconds.


# %%
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


# %% [markdown]
# ## "Transformers are RNNs"
#
# `rnn_form` runs one causal `LinearAttention` (`units` wide, `heads` heads) on 2 random sequences
# of 24 vectors in both forms, all positions at once and step by step with the state
# $(S_t, z_t)$, and compares the outputs (the test: the largest difference under
# $10^{-4} \max(1, \max_i |b^i|)$).


# %%
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


# %% [markdown]
# ## The whole run
#
# `main` measures the three forms (softmax and linear from $T$ = 64 to `max_length`, recurrent from
# 8 to `recurrent_max_length`), prints the table of times and memory and the table of slopes,
# compares the two at the longest $T$ (summary text), draws the figure and judges the cost claim
# and the RNN form. `runner.Run` owns the run folder: run the cell again and a finished run is
# shown, not repeated; a run that was interrupted resumes.


# %%
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


# %% [markdown]
# ## Run it
#
# What to expect: a line per form as it is measured (its time slope), the table of median time
# and peak memory per step for every form and $T$, the fitted slopes, and at the longest $T$
# softmax's time and memory as multiples of linear attention's. The verdict table closes the run.

# %%
if __name__ == "__main__":
    runner.script(
        main, TUTORIAL, OPTIONS, __doc__, mode=mode, seed=seed, logdir=logdir, options=options
    )

# %% [markdown]
# ## Look at it in TensorBoard
#
# Scalars: `cost/softmax/cpu_ms_per_step`, `cost/linear/…` and `cost/recurrent/…` (or
# `wall_ms_per_step` with `clock` = `wall`) and `cost/<form>/peak_MiB`, plotted against $T$ (the
# step is $T$). Images: `cost_vs_length`, the log–log plots with the fitted slopes. Text: the
# verdicts first, then the tables and `summary - longest_sequence`. (The cell starts TensorBoard
# inside the notebook; from a terminal, `mlcourse board l11-attention-cost`.)

# %% tags=["skip-execution"]
# %load_ext tensorboard
# %tensorboard --logdir {runner.logdir_of(TUTORIAL, logdir)}
