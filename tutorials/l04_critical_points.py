"""Lecture 4 (homework 2-2): is training stuck at a local minimum or at a saddle point?

1. Train many small tanh networks on y = sinc(5x) = sin(5πx)/(5πx), x in [0, 1], each from its own
   initialisation: first normally (Adam on the MSE), then by minimising the gradient norm itself
   (Levenberg-Marquardt on ½‖g‖²), which lands on the nearest critical point of any kind. This
   and everything after it runs on a float64 copy of the network: the eigenvalues that decide
   "saddle or minimum" here are 1e-5 of the largest, below float32's round-off.
2. At each end point take the exact Hessian and classify it: local minimum / maximum / saddle
   from the signs of the eigenvalues, and the homework rule: ‖g‖ < 1e-3 and minimum ratio (share
   of positive eigenvalues) > 0.5 => "local-minimum-like".
3. The lecture's picture: minimum ratio against training loss, one dot per network.
4. From the saddle with the most negative eigenvalue, step along that eigenvalue's eigenvector (the
   escape direction): the loss falls as ½·λ·t², although the gradient there is (almost) zero;
   judged, with the same step from the lecture's saddle at the origin of y = w1·w2·x.

TensorBoard: Scalars (net-00/train: critical/gradient_norm, critical/minimum_ratio,
critical/min_eigenvalue, critical/max_eigenvalue during normal training, from
mlcourse.callbacks.CriticalPointLogger; epoch_loss of every net), Images (minimum_ratio_vs_loss,
escape_direction), Text (the tables).
"""

# %% [markdown]
# **Lectures 4–5**, "類神經網路訓練不起來怎麼辦： 局部最小值 (local minima) 與鞍點 (saddle
# point) / 批次 (batch) 與動量 (momentum)" (when training fails: local minima and saddle points /
# batch and momentum), its first half: the slides on critical points, the Hessian, and the way out
# of a saddle point.
#
# Where the gradient is zero (a critical point $\theta'$), the loss nearby is set by the Hessian
# $H$; along one of its eigenvectors $u$ (eigenvalue $\lambda$):
#
# $$L(\theta) \approx L(\theta') + \tfrac12 (\theta-\theta')^T H (\theta-\theta'), \qquad
# L(\theta' + t u) - L(\theta') \approx \tfrac12 \lambda t^2.$$
#
# All eigenvalues positive: a local minimum; all negative: a local maximum; both signs: a saddle
# point, and stepping along the eigenvector of a negative $\lambda$ lowers the loss.
#
# **The question from the course notes:** the notes ask no question here; they claim that
# research finds training, with its many parameters, usually stuck at a saddle point rather than a
# local minimum, and that the Hessian is rarely used in practice because it is costly. This
# notebook computes exact Hessians of small networks and tests the first claim.
#
# **What this notebook shows.** Part 1 takes the lecture's own example, $y = w_1 w_2 x$ at the
# origin, and judges its claim: eigenvalues 2 and −2, a saddle point. Part 2 trains many small
# tanh networks on $\mathrm{sinc}(5x)$, drives each to its nearest critical point and classifies it
# by the signs of its Hessian's eigenvalues (and by the homework's "minimum ratio" rule); it judges
# the claim that training usually stops at saddle points rather than local minima. Part 3 steps
# out of the saddle with the most negative eigenvalue along its eigenvector and compares the loss
# with $\tfrac12\lambda t^2$; the last verdict judges that way down, there and at the lecture's
# origin.

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

from mlcourse import runner
from mlcourse.analysis.hessian import (
    LossSurface,
    check_curvature,
    classify_critical_point,
    escape_direction,
)
from mlcourse.callbacks.critical_points import CriticalPointLogger

# %% [markdown]
# The run's settings. A script reads its command-line flags instead (`--smoke`, `--full`,
# `--seed`, `--logdir`, `--networks 20` ...); here, change them and run the notebook again.
# `smoke` is a plumbing check whose numbers mean nothing; `lecture` shows the lecture's effect in a
# few minutes on 2 CPU cores; `full` gives the headline figures.

# %% tags=["parameters"]
mode = "lecture"  # "smoke" (--smoke), "lecture" (no flag) or "full" (--full)
seed = 0  # --seed
logdir = None  # --logdir; None: $MLCOURSE_LOGDIR, else the repository's logs/
options = {}  # this tutorial's options (listed below), e.g. {"networks": 20} for --networks 20

# %% [markdown]
# The tutorial's metadata and options, each with its value in the three modes
# (`mlcourse run l04-critical-points --help` lists them too).

# %%
TUTORIAL = {
    "id": "l04-critical-points",
    "lecture": "4",
    "title": "Critical points: local minima or saddle points?",
}
OPTIONS = {
    "networks": {"kind": "count", "smoke": 3, "lecture": 12, "full": 40, "help": "networks"},
    "hidden": {"kind": "counts", "default": [8, 8], "help": "hidden units per tanh layer"},
    "epochs": {"kind": "count", "smoke": 1, "lecture": 5, "full": 10, "help": "training epochs"},
    "steps_per_epoch": {
        "kind": "count",
        "smoke": 100,
        "default": 300,
        "help": "full-batch Adam steps per epoch",
    },
    "learning_rate": {"kind": "positive", "default": 0.01, "help": "Adam's step size"},
    "critical_steps": {
        "kind": "count",
        "smoke": 5,
        "lecture": 100,
        "full": 150,
        "help": "most Levenberg-Marquardt steps on ½‖g‖²",
    },
    "reach": {"kind": "positive", "default": 1.0, "help": "farthest step along an eigenvector"},
    "curvature_tolerance": {
        "kind": "positive",
        "default": 1e-9,
        "help": "a negative λ above -tolerance·λ_max counts as flat (float64 analysis)",
    },
}
GRADIENT_TOL = 1e-3  # the homework's "critical" threshold on ‖g‖


# %% [markdown]
# ## Part 2's data and networks
#
# The homework's task: fit $y = \mathrm{sinc}(5x)$ on 100 points of $[0, 1]$ with a small tanh
# network (the lecture preset: two layers of 8 units, 97 weights in all). `sinc_network` builds it
# in float32 for training, or in float64 for the Hessian.


# %%
def sinc_data(n=100):
    x = np.linspace(0.0, 1.0, n, dtype="float32")[:, None]
    return x, np.sinc(5 * x).astype("float32")  # np.sinc(z) = sin(πz)/(πz)


def sinc_network(hidden, dtype=None):
    """Tanh layers of ``hidden`` units and a linear output, as in homework 2-2."""
    layers = [keras.Input((1,), dtype=dtype)] + [
        keras.layers.Dense(units, activation="tanh", dtype=dtype) for units in hidden
    ]
    return keras.Sequential(layers + [keras.layers.Dense(1, dtype=dtype)])


# %% [markdown]
# One network's way to a critical point. It trains normally first (full-batch Adam, through
# `run.fit`: TensorBoard, checkpoints, resume); the first network also logs its gradient norm and
# Hessian eigenvalues every epoch. Then, on a float64 copy, Levenberg-Marquardt minimises
# $\tfrac12\lVert g\rVert^2$ itself, which lands on the nearest critical point of any kind. There
# the exact Hessian's eigenvalues give the kind, and the homework's rule: $\lVert g\rVert < 10^{-3}$
# and a minimum ratio (share of positive eigenvalues) above 0.5 count as "local minimum".


# %%
def train_to_critical_point(run, index, config, x, y):
    """Normal training (through the runner), then minimise ‖g‖; returns the surface and the
    classification.
    """
    name = f"net-{index:02d}"
    keras.utils.set_random_seed(
        run.seed * 1000 + index
    )  # each network its own, reproducible initialisation
    with run.scope():
        model = sinc_network(config.hidden)
        model.compile(keras.optimizers.Adam(config.learning_rate), "mse", steps_per_execution=50)
    full_batch = tf.data.Dataset.from_tensors((x, y)).repeat()
    callbacks = [CriticalPointLogger(run.variant_dir(name) / "train", x, y)] if index == 0 else []
    run.fit(
        name,
        model,
        full_batch,
        epochs=config.epochs,
        steps_per_epoch=config.steps_per_epoch,
        callbacks=callbacks,
        shuffle=False,
        verbose=0,
    )
    exact = sinc_network(config.hidden, dtype="float64")  # the analysis in float64 (see README)
    exact.set_weights(model.get_weights())
    surface = LossSurface(exact, x.astype("float64"), y.astype("float64"), "mse")
    trained_norm = surface.gradient_norm()
    norms = surface.minimize_gradient_norm(config.critical_steps, tolerance=GRADIENT_TOL / 10)
    eigenvalues, eigenvectors = np.linalg.eigh(surface.hessian())
    point = classify_critical_point(eigenvalues, norms[-1], gradient_tol=GRADIENT_TOL)
    row = {
        "network": name,
        "parameters": model.count_params(),
        "loss": surface.value(),
        "‖g‖ after Adam": trained_norm,
        "‖g‖ at the end": norms[-1],
        "λ_min": eigenvalues[0],
        "λ_max": eigenvalues[-1],
        "minimum ratio": point.minimum_ratio,
        "kind": point.kind,
        "homework rule": homework_verdict(point),
    }
    return row, surface, eigenvalues, eigenvectors


def homework_verdict(point):
    """Homework 2-2: only a critical point gets a verdict; minimum ratio > 0.5 ⇒ local minimum."""
    if point.kind == "not critical":
        return "-"
    return "local minimum" if point.minimum_like else "saddle point"


# %% [markdown]
# The figures. The lecture's picture: one dot per network, its minimum ratio against its training
# loss (gray crosses: end points that are not critical). And the way down from a saddle: the loss
# along the escape direction (the eigenvector of $\lambda_{\min}$) and along the top eigenvector,
# each next to the prediction $\tfrac12\lambda t^2$.


# %%
def minimum_ratio_figure(rows):
    """The lecture's picture: every network's minimum ratio against its training loss."""
    figure = Figure(figsize=(7, 5))
    axis = figure.subplots()
    for critical, style in (
        (True, dict(c="tab:blue", label=f"‖g‖ < {GRADIENT_TOL:g}")),
        (False, dict(c="tab:gray", marker="x", label=f"‖g‖ ≥ {GRADIENT_TOL:g} (not critical)")),
    ):
        chosen = [r for r in rows if (r["‖g‖ at the end"] < GRADIENT_TOL) == critical]
        axis.scatter([r["minimum ratio"] for r in chosen], [r["loss"] for r in chosen], **style)
    axis.axvline(0.5, color="red", ls="--", label="homework rule: ratio > 0.5 ⇒ local-minimum-like")
    axis.set(
        xlabel="minimum ratio (share of positive Hessian eigenvalues)",
        ylabel="training loss (MSE)",
        title=f"{len(rows)} networks at their critical points",
        yscale="log",
    )
    axis.legend()
    return figure


def escape_figure(surface, eigenvalues, eigenvectors, reach):
    """Loss along the escape direction (λ_min) and along the steepest-curvature direction (λ_max).

    ½λt² only holds near θ, so the plot spans twice the distance |t*| at which the loss along u is
    lowest (searched on a log grid up to `reach`).
    """
    u = escape_direction(eigenvalues, eigenvectors)
    probe = np.geomspace(1e-3 * reach, reach, 60)
    probe = np.concatenate([-probe[::-1], probe])
    losses = surface.loss_along(u, probe)
    base, best = surface.value(), int(np.argmin(losses))
    steps = np.linspace(-2, 2, 81) * abs(probe[best])
    figure = Figure(figsize=(12, 4.5))
    axes = figure.subplots(1, 2)
    for axis, direction, lam, label in (
        (axes[0], u, eigenvalues[0], "escape direction u (λ_min)"),
        (axes[1], eigenvectors[:, -1], eigenvalues[-1], "top eigenvector (λ_max)"),
    ):
        axis.plot(
            steps, surface.loss_along(direction, steps) - base, label="measured L(θ+tu) − L(θ)"
        )
        axis.plot(steps, 0.5 * lam * steps**2, "--", label=f"½λt², λ = {lam:.3g}")
        axis.set(xlabel="t", ylabel="change in loss", title=f"from the saddle, along the {label}")
        axis.legend()
    row = {
        "loss at θ": base,
        "best t": probe[best],
        "loss at θ + t·u": losses[best],
        "decrease": base - losses[best],
        "½|λ_min|t² predicts": -0.5 * eigenvalues[0] * probe[best] ** 2,
    }
    return figure, row


# %% [markdown]
# ## Part 1: the lecture's own example
#
# The network $y = w_1 w_2 x$ with one example $(x, \hat y) = (1, 1)$, so $L = (1 - w_1 w_2)^2$.
# At $w_1 = w_2 = 0$ the gradient is zero and
#
# $$H = \begin{pmatrix}0 & -2\\ -2 & 0\end{pmatrix},$$
#
# with eigenvalues 2 and −2: a saddle point, left along $u = (1, 1)/\sqrt2$.


# %%
def lecture_example():
    """The lecture's network y = w1·w2·x with one example (x, ŷ) = (1, 1), at w1 = w2 = 0.

    L = (ŷ − w1 w2 x)²: the gradient is 0 at the origin, and H = [[0, −2], [−2, 0]]."""
    model = keras.Sequential(
        [
            keras.Input((1,)),
            keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros"),
            keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros"),
        ]
    )
    surface = LossSurface(model, np.ones((1, 1), "float32"), np.ones((1, 1), "float32"), "mse")
    eigenvalues, eigenvectors = np.linalg.eigh(surface.hessian())
    point = classify_critical_point(eigenvalues, surface.gradient_norm())
    check = check_curvature(surface, eigenvalues[0], eigenvectors[:, 0])
    return eigenvalues, eigenvectors[:, 0], point, check


# %% [markdown]
# A negative eigenvalue can be round-off in a flat direction rather than a real way down.
# `real_curvature` counts it only if it lies below $-\text{tolerance}\cdot\lambda_{\max}$ and the
# loss along its eigenvector really bends by $\tfrac12\lambda t^2$.


# %%
def real_curvature(surface, eigenvalues, eigenvectors, tolerance, reach):
    """Is the most negative eigenvalue real negative curvature, not a flat direction's round-off?

    It must be below ``-tolerance · λ_max``, and the loss along its eigenvector must bend by
    ½λt² (``check_curvature``, in float64)."""
    if eigenvalues[0] >= -tolerance * eigenvalues[-1]:
        return False, None
    check = check_curvature(surface, eigenvalues[0], eigenvectors[:, 0], reach=reach)
    return check.confirmed, check


# %% [markdown]
# The first verdict: the lecture's example is a saddle point, eigenvalues −2 and 2. Its way down
# is judged at the end, with Part 3's (`judge_way_down`).


# %%
def judge_lecture_example(run):
    """Part 1: the lecture's own example, a saddle at the origin; (u, its curvature check)."""
    eigenvalues, u, point, check = lecture_example()
    run.verdict(
        "At a critical point the Hessian decides what it is: at the origin of y = w1·w2·x "
        "(data x = 1, ŷ = 1) the gradient is zero and the eigenvalues are 2 and -2, a saddle "
        "point, not a minimum",
        f"‖g‖ = {point.gradient_norm:.1g}, eigenvalues {eigenvalues[0]:.3g} and "
        f"{eigenvalues[1]:.3g}: {point.kind}",
        point.kind == "saddle point" and np.allclose(eigenvalues, [-2, 2]),
    )
    return u, check


def judge_way_down(run, lecture, way_down):
    """The lecture's escape: along the eigenvector of a negative λ the loss falls by ½|λ|t²,
    at the lecture's saddle (``lecture``: u and its ``CurvatureCheck``) and, where a trained
    network ended at one, from the steepest of them (``way_down``: Part 3's row, or None)."""
    u, check = lecture
    measured = (
        f"at the lecture's origin, along u = ({u[0]:.2f}, {u[1]:.2f}): the loss changes by "
        f"{check.measured:.3g} at t = {check.step:.2g}, ½λt² = {check.predicted:.3g}"
    )
    holds = check.confirmed
    if way_down is None:
        measured += "; no trained network ended at a point with a negative eigenvalue"
    else:
        measured += (
            f"; from {way_down['network']}'s end point the loss falls by "
            f"{way_down['decrease']:.3g} at t = {way_down['best t']:.2g}, ½|λ_min|t² = "
            f"{way_down['½|λ_min|t² predicts']:.3g}"
        )
        holds = holds and way_down["decrease"] > 0
    run.verdict(
        "At a saddle point the Hessian shows the way down: a step along the eigenvector u of a "
        "negative eigenvalue λ lowers the loss, by about ½|λ|t² (the Taylor expansion)",
        measured,
        holds,
    )


# %% [markdown]
# ## Part 2: many networks at their critical points
#
# Every network (12 in the lecture preset) is trained and driven to its critical point; a line is
# printed for each (its kind, loss and $\lVert g\rVert$). The tables: every end point, then how
# many are of each kind, how many have real negative curvature, and what the homework rule says.


# %%
def networks_at_critical_points(run, config, x, y):
    """Part 2: many small networks, trained, then driven to their nearest critical point."""
    rows, found = [], []
    for index in range(config.networks):
        row, *point = train_to_critical_point(run, index, config, x, y)
        found.append(point)
        confirmed, _ = real_curvature(*point, config.curvature_tolerance, config.reach)
        row["real negative curvature"] = "yes" if confirmed else "no"
        rows.append(row)
        print(
            f"  net-{index:02d}: {row['kind']}, loss {row['loss']:.3g}, ‖g‖ "
            f"{row['‖g‖ at the end']:.1g}"
        )
    run.table("Every network at its end point", rows)
    return rows, found


def classification_table(run, config, rows):
    """How many end points are of each kind; the critical ones (‖g‖ small) among them."""
    critical = [r for r in rows if r["‖g‖ at the end"] < GRADIENT_TOL]
    kinds = sorted({r["kind"] for r in rows} | {"saddle point"})
    counts = [
        {"kind (Hessian signs)": kind, "networks": sum(r["kind"] == kind for r in rows)}
        for kind in kinds
    ]
    counts.append(
        {
            "kind (Hessian signs)": f"critical (‖g‖ < {GRADIENT_TOL:g}), real negative "
            f"curvature (λ_min < -{config.curvature_tolerance:g}·λ_max, confirmed along "
            "its eigenvector)",
            "networks": sum(r["real negative curvature"] == "yes" for r in critical),
        }
    )
    counts.append(
        {
            "kind (Hessian signs)": "critical, homework rule (minimum ratio > 0.5): local minimum",
            "networks": sum(r["homework rule"] == "local minimum" for r in critical),
        }
    )
    run.table("How the end points classify", counts)
    return critical


# %% [markdown]
# ## Part 3: the way out of a saddle
#
# From the end point with the most negative eigenvalue, step along its eigenvector: the gradient
# there is almost zero, yet the loss falls, by about $\tfrac12|\lambda_{\min}| t^2$ near the point.


# %%
def escape(run, config, rows, found):
    """Part 3: the escape direction of the end point with the most negative eigenvalue; its
    table row and the network's name (None when no end point has a negative eigenvalue)."""
    saddles = [i for i, r in enumerate(rows) if r["real negative curvature"] == "yes"]
    saddles = saddles or [i for i, r in enumerate(rows) if r["λ_min"] < 0]
    if not saddles:
        run.text("escape", "No end point has a negative eigenvalue: nothing to escape from.")
        return None
    steepest = min(saddles, key=lambda i: rows[i]["λ_min"])
    figure, way_down = escape_figure(*found[steepest], reach=config.reach)
    run.figure("escape_direction", figure)
    run.table(
        f"Escaping {rows[steepest]['network']} ({rows[steepest]['kind']}) along its escape "
        "direction",
        [way_down],
    )
    return {"network": rows[steepest]["network"], **way_down}


# %% [markdown]
# ## The whole run
#
# `main` judges the lecture's example (Part 1), takes every network to a critical point and
# tabulates the kinds (Part 2), draws the minimum-ratio picture, judges the saddle-point claim,
# escapes from the steepest saddle (Part 3) and judges the way down. `runner.Run` owns the run
# folder: run the cell again and a finished run is shown, not repeated; a run that was
# interrupted resumes.


# %%
def main(config):
    x, y = sinc_data()
    with runner.Run(TUTORIAL, config) as run:
        lecture = judge_lecture_example(run)
        rows, found = networks_at_critical_points(run, config, x, y)
        critical = classification_table(run, config, rows)
        run.figure("minimum_ratio_vs_loss", minimum_ratio_figure(rows))
        judge_saddles(run, config, critical)
        judge_way_down(run, lecture, escape(run, config, rows, found))


# %% [markdown]
# The lecture's claim, judged: among the critical end points, do most have real negative
# curvature (saddles) rather than none (minima)? With fewer than 3 critical points the verdict is
# `inconclusive`. These networks have a hundred weights, not millions, so a minimum with flat
# directions is a likely outcome; the verdict says so when it happens.


# %%
def judge_saddles(run, config, critical):
    """The lecture: with many parameters, training usually stops at saddles, not minima."""
    real = sum(r["real negative curvature"] == "yes" for r in critical)
    flat = len(critical) - real
    homework = sum(r["homework rule"] == "local minimum" for r in critical)
    if len(critical) < 3:
        outcome = "inconclusive"
    else:
        outcome = real > len(critical) / 2
    ratios = [abs(r["λ_min"] / r["λ_max"]) for r in critical if r["λ_min"] < 0] or [0.0]
    run.verdict(
        "Where training stops (‖g‖ ≈ 0) it is usually a saddle point, with a direction of "
        "negative curvature left, rather than a local minimum",
        f"of {len(critical)} critical end points, {real} have real negative curvature "
        f"(λ_min < -{config.curvature_tolerance:g}·λ_max and the loss falls by ½λt² along its "
        f"eigenvector), although tiny: |λ_min| is {min(ratios):.1g} to {max(ratios):.1g} of "
        f"λ_max; {flat} have none beyond flat directions; the homework's minimum-ratio rule "
        f"(share of positive eigenvalues > 0.5) calls {homework} of them local minima",
        outcome,
        seeds=config.networks,
        reason=f"these networks have {critical[0]['parameters'] if critical else '?'} parameters; "
        "their end points are minima up to flat directions, whose tiny eigenvalues have a sign "
        "set by round-off; the lecture's statement is about networks with millions of parameters",
    )


# %% [markdown]
# ## Run it
#
# What to expect: two lines per network, one when its Adam training ends and one with the kind,
# loss and $\lVert g\rVert$ of its critical point; then the tables of end points and kinds, the
# two figures and the escape table. The verdict table closes the run.

# %%
if __name__ == "__main__":
    runner.script(
        main, TUTORIAL, OPTIONS, __doc__, mode=mode, seed=seed, logdir=logdir, options=options
    )

# %% [markdown]
# ## Look at it in TensorBoard
#
# Scalars: `net-00/train`, the first network during normal training: `critical/gradient_norm`,
# `critical/minimum_ratio`, `critical/min_eigenvalue` and `critical/max_eigenvalue` per epoch (how
# close Adam gets to a critical point, and of what kind); `epoch_loss` of every network. Images:
# `minimum_ratio_vs_loss` (the lecture's picture) and `escape_direction` (measured loss against
# $\tfrac12\lambda t^2$). Text: the verdicts first, then the tables. (The cell starts TensorBoard
# inside the notebook; from a terminal, `mlcourse board l04-critical-points`.)

# %% tags=["skip-execution"]
# %load_ext tensorboard
# %tensorboard --logdir {runner.logdir_of(TUTORIAL, logdir)}
