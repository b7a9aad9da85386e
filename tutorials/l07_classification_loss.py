"""Lecture 7: why cross-entropy beats MSE for classification, on a classifier with two parameters.

The lecture's picture, measured. A softmax classifier with one weight w and one bias b (logits
(-(w·x+b), w·x+b), mlcourse.analysis.classifier_surface) on points of two classes at x ≈ -1 and
x ≈ +1. Its cross-entropy and MSE (on the softmax probabilities, mlcourse.losses) loss surfaces
over the same (w, b) grid are drawn as images. Then both losses train the same model with the same
plain gradient descent from the same bad start (w = -6: every logit large and wrong). Cross-entropy
has a slope there and escapes in a few updates; MSE sits on a flat plateau and stalls. The
tutorial prints the number of updates each needs to reach the target accuracy.

TensorBoard: Images (loss_surfaces, surfaces_with_paths, curves), Scalars (epoch_loss and
epoch_categorical_accuracy per loss; trajectory/... = w and b after every update), Text (the table).
"""

# %% [markdown]
# **Lecture 7**, "類神經網路訓練不起來怎麼辦 (四)：損失函數 (Loss) 也可能有影響" (when
# training fails, part 4: the loss can be to blame), the slides comparing the MSE and
# cross-entropy error surfaces.
#
# A classifier's network outputs real numbers $y$; softmax turns them into probabilities $y'$, and
# the loss compares $y'$ with the one-hot label $\hat y$:
#
# $$e_{\text{CE}} = -\sum_i \hat y_i \ln y'_i, \qquad e_{\text{MSE}} = \sum_i (\hat y_i - y'_i)^2.$$
#
# **The question from the course notes:** the lecture says cross-entropy "is better than MSE", with
# only a hand-waving explanation for lack of time. Better how, and can we see it?
#
# **What this notebook shows.** Part 1 draws both loss surfaces of a two-parameter classifier over
# the same $(w, b)$ grid. Part 2 trains the same model with each loss by plain gradient descent
# from the same bad start ($w = -6$: every logit large and wrong), on three data seeds. Part 3
# judges the lecture's two claims: at that start the MSE surface is flat while cross-entropy still
# slopes; cross-entropy reaches 90 % accuracy where MSE stalls.

# %% [markdown]
# Away from a machine set up with `make setup` (a laptop, Colab), the next cell fetches the data
# sets that are missing, checksummed; where they are present it only checks them. (In the script
# this line is a comment.)

# %%
# %run -m mlcourse data prepare --download

# %%
import keras
import numpy as np
from matplotlib.figure import Figure

from mlcourse import runner, verdicts
from mlcourse.analysis import classifier_surface as surface
from mlcourse.callbacks.weight_trajectory import WeightTrajectory
from mlcourse.losses import CrossEntropy, ProbabilityMSE

# %% [markdown]
# The run's settings. A script reads its command-line flags instead (`--smoke`, `--full`,
# `--seed`, `--logdir`, `--epochs 50` ...); here, change them and run the notebook again.
# `smoke` is a plumbing check whose numbers mean nothing; `lecture` shows the lecture's effect in a
# few minutes on 2 CPU cores; `full` gives the headline figures.

# %% tags=["parameters"]
mode = "lecture"  # "smoke" (--smoke), "lecture" (no flag) or "full" (--full)
seed = 0  # --seed
logdir = None  # --logdir; None: $MLCOURSE_LOGDIR, else the repository's logs/
options = {}  # this tutorial's options (listed below), e.g. {"epochs": 50} for --epochs 50

# %% [markdown]
# The tutorial's metadata and options, each with its value in the three modes
# (`mlcourse run l07-classification-loss --help` lists them too).

# %%
TUTORIAL = {
    "id": "l07-classification-loss",
    "lecture": "7",
    "title": "Cross-entropy vs MSE: loss surfaces",
}
OPTIONS = {
    "start_w": {"kind": "real", "default": -6.0, "help": "starting weight (-6: badly wrong)"},
    "start_b": {"kind": "real", "default": 0.0, "help": "starting bias"},
    "learning_rate": {"kind": "positive", "default": 1.0, "help": "SGD step size"},
    "epochs": {
        "kind": "count",
        "smoke": 2,
        "lecture": 30,
        "full": 100,
        "help": "epochs of 10 updates",
    },
    "batch_size": {"kind": "count", "default": 20, "help": "examples per update"},
    "target_accuracy": {"kind": "fraction", "default": 0.9, "help": "the accuracy to reach"},
    "seeds": {"kind": "count", "smoke": 1, "lecture": 3, "full": 5, "help": "data sets drawn"},
    "grid": {
        "kind": "count",
        "smoke": 41,
        "lecture": 101,
        "full": 201,
        "help": "surface points a side",
    },
}
KERAS_LOSSES = {"cross-entropy": lambda: CrossEntropy(from_logits=True), "mse": ProbabilityMSE}

# %% [markdown]
# ## Part 2: the same model, optimiser and start; only the loss differs
#
# `train_from` compiles the two-parameter classifier with one loss and plain SGD and trains it
# with `run.fit` (TensorBoard, checkpoints, resume); `WeightTrajectory` records $(w, b)$ after every
# update, so the path can be drawn on the surface. `slope_at` measures $\lVert\nabla L\rVert$ at
# the start by central differences: how steep each surface is where training begins.


# %%
def train_from(run, name, x, y, config):
    """Gradient descent from (start_w, start_b) with one loss; the path [(update, w, b), ...]."""
    with run.scope():
        model = surface.build_classifier(config.start_w, config.start_b)
        model.compile(
            optimizer=keras.optimizers.SGD(config.learning_rate),
            loss=KERAS_LOSSES[name.split("-seed")[0]](),
            metrics=["categorical_accuracy"],
        )
    folder = run.variant_dir(name)
    path = WeightTrajectory(folder / "trajectory.json", log_dir=folder / "train")
    run.fit(name, model, x, y, epochs=config.epochs, batch_size=config.batch_size, callbacks=[path])
    return WeightTrajectory(folder / "trajectory.json").array()  # right also for a reused variant


def slope_at(name, x, y, w, b, step=1e-3):
    """|∇L| at (w, b) by central differences: how steep the surface is where training starts."""
    ws = np.array([w + step, w - step, w, w])
    bs = np.array([b, b, b + step, b - step])
    losses = surface.loss_along(name, ws, bs, x, y)
    return float(np.hypot(losses[0] - losses[1], losses[2] - losses[3]) / (2 * step))


# %% [markdown]
# The figures: the loss and the accuracy along each path, update by update.


# %%
def plot_curves(curves, target):
    figure = Figure(figsize=(11, 3.8))
    left, right = figure.subplots(1, 2)
    for name, (steps, losses, accuracies) in curves.items():
        left.plot(steps, losses, label=name)
        right.plot(steps, accuracies, label=name)
    right.axhline(target, color="gray", ls=":", label=f"target {target:.0%}")
    left.set(xlabel="update", ylabel="mean loss (training data)", yscale="log")
    left.set_title("loss along the path")
    right.set(
        xlabel="update", ylabel="accuracy", ylim=(-0.02, 1.02), title="accuracy along the path"
    )
    left.legend()
    right.legend()
    figure.tight_layout()
    return figure


# %% [markdown]
# For one data seed: train with each loss, then count the updates each needed to reach the target
# accuracy (a loss that never reaches it counts as more than all the updates it made).


# %%
def train_both(run, config, seed, x, y):
    """Part 2: the same model, optimiser and bad start; only the loss differs.

    Returns one table row per loss, the updates each took to the target accuracy, and for the
    figures each loss's path and curves.
    """
    rows, reached, paths, curves = [], {}, {}, {}
    for name in surface.LOSSES:
        path = train_from(run, f"{name}-seed{seed}", x, y, config)
        steps, ws, bs = path[:, 0], path[:, 1], path[:, 2]
        accuracies = surface.accuracy(ws, bs, x, y)
        got = surface.steps_to_accuracy(accuracies[1:], config.target_accuracy)
        reached[name] = got or int(steps[-1]) + 1  # not reached: more than all
        paths[name] = (ws, bs)
        curves[name] = (steps, surface.loss_along(name, ws, bs, x, y), accuracies)
        rows.append(
            {
                "loss": name,
                "data seed": seed,
                "updates": int(steps[-1]),
                "final (w, b)": f"({ws[-1]:.3g}, {bs[-1]:.3g})",
                "final loss": float(surface.loss_along(name, ws[-1:], bs[-1:], x, y)[0]),
                "final accuracy": float(accuracies[-1]),
                f"updates to {config.target_accuracy:.0%}": got or f"> {int(steps[-1])}",
            }
        )
    return rows, reached, paths, curves


# %% [markdown]
# ## Part 3: the verdicts
#
# `run.verdict` records each claim with what was measured and whether it held: the slope test is
# a threshold (cross-entropy's slope at least 10x MSE's); the updates-to-target test compares the
# seeds' numbers and says `inconclusive` when their spread covers the difference.


# %%
def judge(run, config, slopes, reached, seeds):
    """Part 3: the lecture's two claims, the slopes at the start and the updates it took."""
    run.verdict(
        "At a start where every logit is large and wrong, the MSE surface is flat while the "
        "cross-entropy surface still slopes down",
        f"|gradient| at the start: cross-entropy {slopes['cross-entropy']:.3g}, "
        f"MSE {slopes['mse']:.3g}",
        bool(slopes["cross-entropy"] > 10 * slopes["mse"]),
        reason="the test: the cross-entropy slope at least 10x the MSE slope",
    )
    ce, mse = reached["cross-entropy"], reached["mse"]
    run.verdict(
        "Cross-entropy trains from the bad start where MSE stalls",
        f"updates to {config.target_accuracy:.0%} accuracy: cross-entropy "
        f"{verdicts.spread(ce)}, MSE {verdicts.spread(mse)} (not reached counts as "
        f"{config.epochs * 10 + 1})",
        verdicts.exceeds(mse, ce),
        seeds=seeds,
    )


# %% [markdown]
# ## Part 1 and the whole run
#
# `main` draws the two surfaces for the first seed's data (Part 1), trains both losses on every
# seed (Part 2), draws the paths on the surfaces and the curves, prints the table and judges
# (Part 3). `runner.Run` owns the run folder: run the cell again and a finished run is shown, not
# repeated; a run that was interrupted resumes.


# %%
def main(config):
    grid = np.linspace(-10, 10, config.grid)
    with runner.Run(TUTORIAL, config) as run:
        seeds = run.seeds(config.seeds)
        # Part 1: the two loss surfaces over the same (w, b) grid, for the first seed's data.
        x, y = surface.two_class_data(n=200, seed=seeds[0])
        surfaces = {name: surface.loss_surface(name, x, y, grid, grid) for name in surface.LOSSES}
        run.figure("loss_surfaces", surface.plot_surfaces(surfaces, grid, grid))
        slopes = {n: slope_at(n, x, y, config.start_w, config.start_b) for n in surface.LOSSES}
        rows, reached = [], {name: [] for name in surface.LOSSES}
        for seed in seeds:
            x, y = surface.two_class_data(n=200, seed=seed)
            seed_rows, seed_reached, seed_paths, seed_curves = train_both(run, config, seed, x, y)
            rows += seed_rows
            for name, updates in seed_reached.items():
                reached[name].append(updates)
            if seed == seeds[0]:
                paths, curves = seed_paths, seed_curves
        run.figure("surfaces_with_paths", surface.plot_surfaces(surfaces, grid, grid, paths))
        run.figure("curves", plot_curves(curves, config.target_accuracy))
        run.table(
            f"From a bad start (w, b) = ({config.start_w:g}, {config.start_b:g}), SGD "
            f"lr={config.learning_rate:g}: updates to {config.target_accuracy:.0%} accuracy",
            rows,
        )
        judge(run, config, slopes, reached, len(seeds))


# %% [markdown]
# ## Run it
#
# What to expect: the surfaces first (MSE has a flat plateau where the logits are large and
# wrong; cross-entropy keeps sloping), then the paths: cross-entropy escapes the bad start in a
# few updates, MSE barely moves. The verdict table closes the run.

# %%
if __name__ == "__main__":
    runner.script(
        main, TUTORIAL, OPTIONS, __doc__, mode=mode, seed=seed, logdir=logdir, options=options
    )

# %% [markdown]
# ## Look at it in TensorBoard
#
# Images: `loss_surfaces`, `surfaces_with_paths` (the two paths on the two surfaces) and `curves`.
# Scalars: `epoch_loss` and `epoch_categorical_accuracy` per loss and seed, and `trajectory/w`,
# `trajectory/b` after every update: the MSE runs' `w` hardly moves at first. Text: the verdicts
# first, then the table. (The cell starts TensorBoard inside the notebook; from a terminal,
# `mlcourse board l07-classification-loss`.)

# %% tags=["skip-execution"]
# %load_ext tensorboard
# %tensorboard --logdir {runner.logdir_of(TUTORIAL, logdir)}
