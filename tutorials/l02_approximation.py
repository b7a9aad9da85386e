"""Lecture 2, question 1: can sums of hard sigmoids approximate any continuous function of n
features?

Slides 23-26 build a 1-D piecewise-linear curve from hard sigmoids; slide 30 writes the same model
for n features without proof. This tutorial builds the approximators by hand, with no training
(mlcourse.analysis.approximation): the 1-D interpolant with n units; in 2-D, local bumps made of two
layers of hard sigmoids (a threshold of a sum: "peel the apple"), and the lecture's one hidden layer
with ramps along many directions. It measures the max error on a dense grid as the units grow, then
trains a SigmoidSum of the same size with Adam on samples of the same function and compares.

TensorBoard: Images (1-D curves, 2-D heatmaps, max error vs units), Scalars (the trained models'
epoch_loss), Text (the tables and the answer).
"""

# %% [markdown]
# **Lecture 2**, "預測本頻道觀看人數 (下) - 深度學習基本概念簡介" (predicting this channel's
# views, part 2: basic concepts of deep learning), slides 23-26 (a piecewise-linear curve as a
# constant plus a sum of hard sigmoids) and slide 30 (the same model with n features).
#
# The lecture's model, with the hard sigmoid $H(z) = \min(\max(z, 0), 1)$ (flat, ramp, flat):
#
# $$y = b + \sum_i c_i\, H\Big(b_i + \sum_j w_{ij} x_j\Big).$$
#
# In 1-D ($j$ runs over one feature) the slides show that such sums draw any piecewise-linear
# curve, hence approximate any continuous function; slide 30 writes the n-feature sum without
# proof.
#
# **The question from the course notes:** the 1-D argument is hand-waving, and the extension to n
# dimensions on slide 30 comes with no proof. Can a sum of this form approximate a continuous
# function of n features? The hint: think in 2-D first, and ask whether any function can be
# approximated locally ("peel the apple").
#
# **What this notebook shows.** Part 1 builds the approximators by hand, no training
# (`mlcourse.analysis.approximation`): the 1-D piecewise-linear interpolant with n units; in 2-D,
# local bumps made of two layers of hard sigmoids (a threshold of a sum: "peel the apple"), and
# the lecture's one hidden layer with ramps along many directions. It measures each one's max error
# on a dense grid as the units grow and judges three claims: the 1-D sum approximates more closely
# as the units grow (slides 23-26); so does the one-hidden-layer sum in 2-D (question 1); and so do
# the two-layer local bumps as they shrink. Part 2 trains a `SigmoidSum` of the same size with
# Adam and sets it next to the construction (a table and a text, no verdict). Part 3 draws the
# targets, the approximations and the max error against the units.

# %% [markdown]
# Away from a machine set up with `make setup` (a laptop, Colab), the next cell fetches the data
# sets that are missing, checksummed; where they are present it only checks them. (In the script
# this line is a comment.)

# %%
# %run -m mlcourse data prepare --download

# %%
import itertools

import keras
import numpy as np
from matplotlib.figure import Figure

from mlcourse import runner
from mlcourse.analysis import approximation
from mlcourse.layers import SigmoidSum

# %% [markdown]
# The run's settings. A script reads its command-line flags instead (`--smoke`, `--full`,
# `--seed`, `--logdir`, `--epochs 20` ...); here, change them and run the notebook again.
# `smoke` is a plumbing check whose numbers mean nothing; `lecture` shows the lecture's effect in a
# few minutes on 2 CPU cores; `full` gives the headline figures.

# %% tags=["parameters"]
mode = "lecture"  # "smoke" (--smoke), "lecture" (no flag) or "full" (--full)
seed = 0  # --seed
logdir = None  # --logdir; None: $MLCOURSE_LOGDIR, else the repository's logs/
options = {}  # this tutorial's options (listed below), e.g. {"epochs": 20} for --epochs 20

# %% [markdown]
# The tutorial's metadata and options, each with its value in the three modes
# (`mlcourse run l02-approximation --help` lists them too).

# %%
TUTORIAL = {
    "id": "l02-approximation",
    "lecture": "2",
    "title": "Question 1: sums of hard sigmoids approximate any continuous function",
}

OPTIONS = {
    "epochs": {"kind": "count", "smoke": 3, "lecture": 40, "full": 150, "help": "training epochs"},
    "learning_rate": {"kind": "positive", "default": 0.01, "help": "Adam's, cosine-decayed"},
    "batch_size": {"kind": "count", "default": 32, "help": "samples per update"},
    "samples": {"kind": "count", "smoke": 256, "default": 1024, "help": "samples per feature"},
    "units_1d": {
        "kind": "counts",
        "smoke": [2, 4, 8, 16, 32],
        "default": [2, 4, 8, 16, 32, 64, 128, 256],
        "help": "hard sigmoids of the 1-D constructions",
    },
    "bump_cells": {
        "kind": "counts",
        "smoke": [2, 4, 8],
        "default": [2, 4, 8, 16, 32],
        "help": "cells a side of the 2-D bump constructions",
    },
    "ridge_directions": {
        "kind": "counts",
        "smoke": [4, 8],
        "default": [4, 6, 8, 12, 16, 24],
        "help": "directions (= ramps a direction) of the 2-D ridge sums",
    },
    "trained_1d": {
        "kind": "counts",
        "smoke": [8],
        "lecture": [8],
        "full": [8, 32],
        "help": "units of the trained 1-D models",
    },
    "trained_2d": {
        "kind": "counts",
        "smoke": [4],
        "lecture": [4, 8],
        "full": [4, 8, 16],
        "help": "D of the trained 2-D models (D x D units)",
    },
}

# %% [markdown]
# ## Two functions to approximate
#
# Everything lives in the box $[-1, 1]^n$. The 1-D target is a wiggle on a parabola; the 2-D
# target is not a sum $g(x) + h(y)$ of a curve in $x$ and one in $y$, so it needs real 2-D
# pieces.

# %%
BOX = (-1.0, 1.0)


def curve(x):
    """The 1-D target: a wiggle on a parabola."""
    return np.sin(3 * x[:, 0]) + 0.3 * x[:, 0] ** 2


def surface(x):
    """The 2-D target: not a sum of a function of x and one of y, so it needs real 2-D pieces."""
    return np.sin(3 * x[:, 0]) * np.cos(2 * x[:, 1]) + 0.5 * np.exp(
        -2 * (x[:, 0] ** 2 + x[:, 1] ** 2)
    )


# %% [markdown]
# ## Part 1 tools: build at every size, measure, fit the rate
#
# `sweep` builds one construction at every size and measures its max and mean error on a dense
# grid (no training, so no noise: the numbers are exact for these weights). `slope` fits
# $\log(\text{max error})$ against $\log(\text{units})$: the error falls like
# $\text{units}^{\text{slope}}$, and a negative slope means more units, a closer fit.


# %%
def sweep(name, build, sizes, f, dim):
    """Construct at every size; one row per size with units and the dense-grid errors."""
    rows = []
    for size in sizes:
        weights = build(size)
        error = approximation.errors(weights, f, *BOX, dim)
        rows.append(
            {
                "construction": name,
                "size": size,
                "hidden layers": weights.hidden_layers,
                "units": weights.units,
                "max error": error["max"],
                "mean error": error["mean"],
            }
        )
    return rows


def slope(rows):
    """Least-squares slope of log(max error) against log(units): error ∝ units^slope."""
    return float(
        np.polyfit(np.log([r["units"] for r in rows]), np.log([r["max error"] for r in rows]), 1)[0]
    )


# %% [markdown]
# ## Part 2 tools: the same model, trained
#
# A hard sigmoid is flat outside its ramp, so a unit whose ramp misses the data gets no gradient.
# `ramps_inside_the_box` therefore starts every unit as a ramp (random direction) centred at a
# random point of the box. `train_sigmoid_sum` fits `SigmoidSum(units, "hard_sigmoid")`, the
# lecture's model as a layer, with Adam (cosine-decayed step size) on uniform samples of the
# target; `predictor` turns a model into a function of points, like the constructions.


# %%
def ramps_inside_the_box(layer, rng, slope=2.0):
    """Start each unit as a ramp (random direction, given slope) centred at a random point of the
    box.

    A hard sigmoid is flat outside its ramp: a unit whose ramp misses the data gets no gradient.
    """
    units, dim = layer.units, layer.kernel.shape[0]
    direction = rng.normal(size=(units, dim))
    w = slope * direction / np.linalg.norm(direction, axis=1, keepdims=True)
    centre = rng.uniform(*BOX, size=(units, dim))
    layer.kernel.assign(w.T.astype("float32"))
    layer.hidden_bias.assign(
        (0.5 - np.sum(w * centre, axis=1)).astype("float32")
    )  # w·centre + b_i = 1/2


def train_sigmoid_sum(run, f, dim, units, config):
    """Fit SigmoidSum(units, "hard_sigmoid") with Adam on uniform samples of f;
    returns the model.
    """
    rng = np.random.default_rng(run.seed)
    x = rng.uniform(*BOX, size=(config.samples * dim, dim)).astype("float32")
    y = f(x).astype("float32")[:, None]
    with run.scope():
        model = keras.Sequential([keras.Input((dim,)), SigmoidSum(units, unit="hard_sigmoid")])
        ramps_inside_the_box(model.layers[-1], rng)
        steps = config.epochs * -(-len(x) // config.batch_size)  # epochs · ceil(N / B) updates
        schedule = keras.optimizers.schedules.CosineDecay(config.learning_rate, decay_steps=steps)
        model.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse")
    run.fit(
        f"trained-{dim}d-{units}", model, x, y, epochs=config.epochs, batch_size=config.batch_size
    )
    return model


def predictor(model):
    return lambda x: model.predict(np.asarray(x, "float32"), batch_size=4096, verbose=0)[:, 0]


# %% [markdown]
# ## The figures
#
# `plot_curves`: the 1-D target with two constructions and the trained model. `plot_surfaces`:
# heatmaps of the 2-D target and of each approximator (top) and of its $|\text{error}|$ (bottom).
# `plot_error_vs_units`: max error against units on log-log axes, one line per construction and
# markers for the trained models; a straight falling line is the rate `slope` measures.


# %%
def plot_curves(constructions, trained):
    figure = Figure(figsize=(7, 4))
    axis = figure.subplots()
    x = np.linspace(*BOX, 801)[:, None]
    axis.plot(x, curve(x), color="black", lw=2.5, label="target f")
    for weights in constructions:
        axis.plot(x, weights(x), lw=1.2, label=f"constructed, {weights.units} hard sigmoids")
    axis.plot(
        x,
        predictor(trained)(x),
        ls="--",
        label=f"trained SigmoidSum, {trained.layers[-1].units} units",
    )
    axis.set(xlabel="x", ylabel="y", title="1-D: b + Σ c_i·H(b_i + w_i x)")
    axis.legend(fontsize=8)
    return figure


def plot_surfaces(approximators):
    """Heatmaps of the target and each approximator (top) and of |error| (bottom)."""
    points = 121
    x = approximation.box_grid(*BOX, 2, points)
    target = surface(x).reshape(points, points)
    figure = Figure(figsize=(3 * (len(approximators) + 1), 5.6))
    axes = figure.subplots(2, len(approximators) + 1)
    extent = (*BOX, *BOX)
    axes[0, 0].imshow(target.T, origin="lower", extent=extent, cmap="viridis")
    axes[0, 0].set_title("target f(x, y)")
    axes[1, 0].axis("off")
    for column, (title, approximate) in enumerate(approximators.items(), start=1):
        values = np.asarray(approximate(x)).reshape(points, points)
        axes[0, column].imshow(
            values.T,
            origin="lower",
            extent=extent,
            cmap="viridis",
            vmin=target.min(),
            vmax=target.max(),
        )
        axes[0, column].set_title(title, fontsize=9)
        image = axes[1, column].imshow(
            np.abs(values - target).T, origin="lower", extent=extent, cmap="magma"
        )
        axes[1, column].set_title(f"|error|, max {np.abs(values - target).max():.3g}", fontsize=9)
        figure.colorbar(image, ax=axes[1, column], shrink=0.8).ax.tick_params(labelsize=7)
    return figure


def plot_error_vs_units(series, trained_rows):
    figure = Figure(figsize=(7, 4.5))
    axis = figure.subplots()
    for name, rows in series.items():
        axis.loglog([r["units"] for r in rows], [r["max error"] for r in rows], "o-", label=name)
    for dim, marker in ((1, "s"), (2, "^")):
        rows = [r for r in trained_rows if r["dim"] == dim and r["how"] == "trained (Adam)"]
        axis.loglog(
            [r["units"] for r in rows],
            [r["max error"] for r in rows],
            marker,
            ms=9,
            mfc="none",
            label=f"{dim}-D trained SigmoidSum",
        )
    axis.set(
        xlabel="hidden units",
        ylabel="max |f − F| on a dense grid",
        title="Max error vs number of units",
    )
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=8)
    return figure


# %% [markdown]
# ## The verdicts and the comparison text
#
# A construction has no noise, so `judge` asks for more than a trend: the max error must fall at
# every step of the sweep, and the fitted slope must be negative. `trained_text` writes, size by
# size, what Adam reached against the construction of the same size.


# %%
def shrinks(rows):
    """Whether the max error falls at every step of a sweep."""
    return all(a["max error"] > b["max error"] for a, b in itertools.pairwise(rows))


def judge(run, claim, rows):
    """One verdict: the max error falls at every step as the units grow (a construction:
    no noise).
    """
    first, last = rows[0], rows[-1]
    run.verdict(
        claim,
        f"max error {first['max error']:.3g} with {first['units']} units -> "
        f"{last['max error']:.3g} with {last['units']} units (about units^{slope(rows):.2f}); "
        f"{'falls at every step' if shrinks(rows) else 'does not fall at every step'}",
        shrinks(rows) and slope(rows) < 0,
    )


def trained_text(compared):
    """One line per size: what Adam reached against the construction of the same size."""
    lines = ["**Trained vs constructed, same size**"]
    for trained, built in zip(compared[::2], compared[1::2], strict=True):
        better = "beat" if trained["max error"] < built["max error"] else "did not beat"
        lines.append(
            f"- {trained['dim']}-D, {trained['units']} units: Adam reached max error "
            f"{trained['max error']:.3g} (mean {trained['mean error']:.3g}); the construction "
            f"{built['max error']:.3g} (mean {built['mean error']:.3g}): training {better} it."
        )
    lines.append(
        "The exact local bumps need a threshold of a sum, i.e. a second layer of hard sigmoids; "
        "one hidden layer gets there with ridge units along many directions (see "
        "mlcourse.analysis.approximation)."
    )
    return "\n".join(lines)


# %% [markdown]
# ## The three parts
#
# `constructions` (Part 1) sweeps the 1-D interpolant over `units_1d` (2 to 256 hard sigmoids in
# the lecture preset), the 2-D local bumps over `bump_cells` (2 to 32 cells a side) and the 2-D
# ridge sums over `ridge_directions` (4 to 24 directions), prints one table and judges each.
# `trained_vs_constructed` (Part 2) trains models of the sizes in `trained_1d` and `trained_2d`
# and scores them next to the construction of the same size (in 2-D the ridge sum, whose output
# weights come from least squares). `figures` (Part 3) draws the three pictures.


# %%
def constructions(run, config):
    """Part 1, no training: the max error of each construction as its units grow, judged."""
    curve_rows = sweep(
        "1-D piecewise linear",
        lambda n: approximation.piecewise_linear(curve, n, *BOX),
        config.units_1d,
        curve,
        1,
    )
    bump_rows = sweep(
        "2-D local bumps",
        lambda m: approximation.local_bumps(surface, m, *BOX, dim=2),
        config.bump_cells,
        surface,
        2,
    )
    ridge_rows = sweep(
        "2-D ridge sum",
        lambda d: approximation.ridge_sum(surface, d, d, *BOX, seed=run.seed),
        config.ridge_directions,
        surface,
        2,
    )
    run.table(
        "Constructed (no training): units -> error on a dense grid",
        curve_rows + bump_rows + ridge_rows,
    )
    judge(
        run,
        "A sum of hard sigmoids approximates a continuous 1-D function, more closely as the "
        "units grow (slides 23-26)",
        curve_rows,
    )
    judge(
        run,
        "In n dimensions too (question 1): one hidden layer, y = b + Σ c_i H(b_i + Σ_j w_ij "
        "x_j), approximates a 2-D function better as the units grow",
        ridge_rows,
    )
    judge(
        run,
        "Two layers of hard sigmoids build local 2-D bumps ('peel the apple') whose sum "
        "approximates the function better as the bumps shrink",
        bump_rows,
    )
    return {
        "1-D piecewise linear (1 layer)": curve_rows,
        "2-D local bumps (2 layers)": bump_rows,
        "2-D ridge sum (1 layer)": ridge_rows,
    }


def trained_vs_constructed(run, config):
    """Part 2: the same sizes trained with Adam, SigmoidSum(units, "hard_sigmoid"), next to the
    construction; the rows and the trained models by ``(dim, units)``."""
    compared, models = [], {}
    for dim, f, sizes in ((1, curve, config.trained_1d), (2, surface, config.trained_2d)):
        for size in sizes:
            built = (
                approximation.piecewise_linear(curve, size, *BOX)
                if dim == 1
                else approximation.ridge_sum(surface, size, size, *BOX, dim=2, seed=run.seed)
            )
            model = train_sigmoid_sum(run, f, dim, built.units, config)
            models[dim, built.units] = model
            label = "constructed" if dim == 1 else "constructed (c by least squares)"
            for how, approximate in (("trained (Adam)", predictor(model)), (label, built)):
                error = approximation.errors(approximate, f, *BOX, dim)
                compared.append(
                    {
                        "dim": dim,
                        "units": built.units,
                        "how": how,
                        "max error": error["max"],
                        "mean error": error["mean"],
                    }
                )
    run.table("Same size, one hidden layer: trained vs constructed", compared)
    run.text("trained_vs_constructed", trained_text(compared))
    return compared, models


def figures(run, config, sweeps, compared, models):
    """Part 3: the targets next to their approximations, and max error against units."""
    shown_1d = config.trained_1d[0]
    run.figure(
        "1d_target_vs_approximation",
        plot_curves(
            [approximation.piecewise_linear(curve, n, *BOX) for n in (4, shown_1d)],
            models[1, shown_1d],
        ),
    )
    d = config.trained_2d[-1]  # the ridge sum and the trained model of the same size
    approximations = {
        "local bumps, 2 layers, m=8": approximation.local_bumps(surface, 8, *BOX, dim=2),
        f"ridge sum, 1 layer, {d}×{d} units": approximation.ridge_sum(
            surface, d, d, *BOX, dim=2, seed=run.seed
        ),
        f"trained SigmoidSum, {d * d} units": predictor(models[2, d * d]),
    }
    run.figure("2d_target_vs_approximation", plot_surfaces(approximations))
    run.figure("max_error_vs_units", plot_error_vs_units(sweeps, compared))


# %% [markdown]
# ## The whole run
#
# `main` runs the three parts in order inside `runner.Run`, which owns the run folder: run the
# cell again and a finished run is shown, not repeated; a run that was interrupted resumes.


# %%
def main(config):
    with runner.Run(TUTORIAL, config) as run:
        sweeps = constructions(run, config)
        compared, models = trained_vs_constructed(run, config)
        figures(run, config, sweeps, compared, models)


# %% [markdown]
# ## Run it
#
# What to expect: the construction table first (units, hidden layers, max and mean error for each
# size), then the training of the `SigmoidSum` models, the trained-vs-constructed table and its
# text, and the figures. The verdict table closes the run.

# %%
if __name__ == "__main__":
    runner.script(
        main, TUTORIAL, OPTIONS, __doc__, mode=mode, seed=seed, logdir=logdir, options=options
    )

# %% [markdown]
# ## Look at it in TensorBoard
#
# Images: `1d_target_vs_approximation` (the curve, two constructions and the trained model),
# `2d_target_vs_approximation` (the heatmaps and their errors) and `max_error_vs_units` (the
# rates on log-log axes). Scalars: `epoch_loss` of each trained model (`trained-1d-<units>`,
# `trained-2d-<units>`) and its `learning_rate` per update, which the cosine schedule brings down.
# Text: the verdicts, the two tables and the trained-vs-constructed answer.
# (The cell starts TensorBoard inside the notebook; from a terminal,
# `mlcourse board l02-approximation`.)

# %% tags=["skip-execution"]
# %load_ext tensorboard
# %tensorboard --logdir {runner.logdir_of(TUTORIAL, logdir)}
