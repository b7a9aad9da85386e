"""Lecture 4 (homework 2-2): is training stuck at a local minimum or at a saddle point?

1. Train many small tanh networks on y = sinc(5x) = sin(5πx)/(5πx), x in [0, 1], each from its own
   initialisation: first normally (Adam on the MSE), then by minimising the gradient norm itself
   (Levenberg-Marquardt on ½‖g‖²), which lands on the nearest critical point of any kind.
2. At each end point take the exact Hessian and classify it: local minimum / maximum / saddle from the
   signs of the eigenvalues, and the homework rule: ‖g‖ < 1e-3 and minimum ratio (share of positive
   eigenvalues) > 0.5 => "local-minimum-like".
3. The lecture's picture: minimum ratio against training loss, one dot per network.
4. From the saddle with the most negative eigenvalue, step along that eigenvalue's eigenvector (the
   escape direction): the loss falls as ½·λ·t², although the gradient there is (almost) zero.

TensorBoard: Scalars (net-00/train: critical/gradient_norm, critical/minimum_ratio, critical/min_eigenvalue,
critical/max_eigenvalue during normal training, from mlcourse.callbacks.CriticalPointLogger; epoch_loss of
every net), Images (minimum_ratio_vs_loss, escape_direction), Text (the tables).
"""

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from mlcourse import runner  # noqa: E402
from mlcourse.analysis.hessian import LossSurface, classify_critical_point, escape_direction  # noqa: E402
from mlcourse.callbacks.critical_points import CriticalPointLogger  # noqa: E402

TUTORIAL = {
    "id": "l04-critical-points",
    "lecture": "4",
    "title": "Critical points: local minima or saddle points?",
}
GRAD_TOL = 1e-3  # the homework's "critical" threshold on ‖g‖


def sinc_data(n=100):
    x = np.linspace(0.0, 1.0, n, dtype="float32")[:, None]
    return x, np.sinc(5 * x).astype("float32")  # np.sinc(z) = sin(πz)/(πz)


def sinc_network(hidden):
    layers = [keras.Input((1,))] + [
        keras.layers.Dense(units, activation="tanh") for units in hidden
    ]
    return keras.Sequential(layers + [keras.layers.Dense(1)])


def train_to_critical_point(run, index, args, x, y):
    """Normal training (through the runner), then minimise ‖g‖; returns the surface and the classification."""
    name = f"net-{index:02d}"
    keras.utils.set_random_seed(
        run.seed * 1000 + index
    )  # each network its own, reproducible initialisation
    with run.scope():
        model = sinc_network(args.hidden)
        model.compile(keras.optimizers.Adam(args.learning_rate), "mse", steps_per_execution=50)
    full_batch = tf.data.Dataset.from_tensors((x, y)).repeat()
    callbacks = [CriticalPointLogger(run.variant_dir(name) / "train", x, y)] if index == 0 else []
    run.fit(
        name,
        model,
        full_batch,
        epochs=args.epochs,
        steps_per_epoch=args.steps_per_epoch,
        callbacks=callbacks,
        shuffle=False,
        verbose=0,
    )
    surface = LossSurface(model, x, y)
    trained_norm = surface.gradient_norm()
    norms = surface.minimize_gradient_norm(args.critical_steps, tolerance=GRAD_TOL / 10)
    eigenvalues, eigenvectors = np.linalg.eigh(surface.hessian())
    point = classify_critical_point(eigenvalues, norms[-1], grad_tol=GRAD_TOL)
    row = {
        "network": name,
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


def minimum_ratio_figure(rows):
    """The lecture's picture: every network's minimum ratio against its training loss."""
    figure, axis = plt.subplots(figsize=(7, 5))
    for critical, style in (
        (True, dict(c="tab:blue", label=f"‖g‖ < {GRAD_TOL:g}")),
        (False, dict(c="tab:gray", marker="x", label=f"‖g‖ ≥ {GRAD_TOL:g} (not critical)")),
    ):
        chosen = [r for r in rows if (r["‖g‖ at the end"] < GRAD_TOL) == critical]
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

    ½λt² only holds near θ, so the plot spans twice the distance |t*| at which the loss along u is lowest
    (searched on a log grid up to `reach`).
    """
    u = escape_direction(eigenvalues, eigenvectors)
    probe = np.geomspace(1e-3 * reach, reach, 60)
    probe = np.concatenate([-probe[::-1], probe])
    losses = surface.loss_along(u, probe)
    base, best = surface.value(), int(np.argmin(losses))
    steps = np.linspace(-2, 2, 81) * abs(probe[best])
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.5))
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


def main(argv=None):
    parser = runner.tutorial_parser(TUTORIAL, __doc__)
    parser.add_argument(
        "--networks", type=runner.positive_int, default=40, help="networks to train (quick: 3)"
    )
    parser.add_argument(
        "--hidden",
        type=lambda s: tuple(int(u) for u in s.split(",")),
        default=(8, 8),
        help="hidden units per tanh layer, comma separated (default 8,8)",
    )
    parser.add_argument(
        "--epochs", type=runner.positive_int, default=10, help="normal-training epochs (quick: 1)"
    )
    parser.add_argument(
        "--steps-per-epoch",
        type=runner.positive_int,
        default=300,
        help="full-batch steps per epoch",
    )
    parser.add_argument("--learning-rate", type=runner.positive_float, default=0.01)
    parser.add_argument(
        "--critical-steps",
        type=runner.positive_int,
        default=150,
        help="most Levenberg-Marquardt steps on ½‖g‖² (quick: 5)",
    )
    parser.add_argument(
        "--reach",
        type=runner.positive_float,
        default=1.0,
        help="farthest step searched along the escape direction",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.networks, args.epochs, args.steps_per_epoch, args.critical_steps = 3, 1, 100, 5
    x, y = sinc_data()
    with runner.Run(TUTORIAL, args) as run:
        rows, found = [], []
        progress = keras.utils.Progbar(args.networks, unit_name="network")
        for index in range(args.networks):
            row, *point = train_to_critical_point(run, index, args, x, y)
            rows.append(row)
            found.append(point)
            progress.add(1, [("loss", row["loss"]), ("grad_norm", row["‖g‖ at the end"])])
        run.table("Every network at its end point", rows)
        kinds = sorted({r["kind"] for r in rows} | {"saddle point"})
        critical = [r for r in rows if r["‖g‖ at the end"] < GRAD_TOL]
        run.table(
            "How the end points classify",
            [
                {"kind (Hessian signs)": kind, "networks": sum(r["kind"] == kind for r in rows)}
                for kind in kinds
            ]
            + [
                {
                    "kind (Hessian signs)": f"homework rule, of the {len(critical)} with ‖g‖ < {GRAD_TOL:g}: local minimum",
                    "networks": sum(r["homework rule"] == "local minimum" for r in critical),
                }
            ],
        )
        run.figure("minimum_ratio_vs_loss", minimum_ratio_figure(rows))
        saddles = [i for i, r in enumerate(rows) if r["kind"] == "saddle point"]
        saddles = saddles or [
            i for i, r in enumerate(rows) if r["λ_min"] < 0
        ]  # else: the nearest to one
        if not saddles:
            run.text("escape", "No end point has a negative eigenvalue: nothing to escape from.")
            return
        steepest = min(saddles, key=lambda i: rows[i]["λ_min"])
        figure, escape = escape_figure(*found[steepest], reach=args.reach)
        run.figure("escape_direction", figure)
        run.table(
            f"Escaping {rows[steepest]['network']} ({rows[steepest]['kind']}) along its escape direction",
            [escape],
        )


if __name__ == "__main__":
    runner.cli_main(main)
