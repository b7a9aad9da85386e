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

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mlcourse import runner  # noqa: E402
from mlcourse.analysis import classifier_surface as surface  # noqa: E402
from mlcourse.callbacks.weight_trajectory import WeightTrajectory  # noqa: E402
from mlcourse.losses import CrossEntropy, ProbabilityMSE  # noqa: E402

TUTORIAL = {
    "id": "l07-classification-loss",
    "lecture": "7",
    "title": "Cross-entropy vs MSE: loss surfaces",
}

KERAS_LOSSES = {
    "cross-entropy": lambda: CrossEntropy(from_logits=True),
    "mse": lambda: ProbabilityMSE(),
}


def train_from(run, name, x, y, args):
    """Gradient descent from (start_w, start_b) with one loss; returns the path [(update, w, b), ...]."""
    with run.scope():
        model = surface.build_classifier(args.start_w, args.start_b)
        model.compile(
            optimizer=keras.optimizers.SGD(args.learning_rate),
            loss=KERAS_LOSSES[name](),
            metrics=["categorical_accuracy"],
        )
    folder = run.variant_dir(name)
    path = WeightTrajectory(folder / "trajectory.json", log_dir=folder / "train")
    run.fit(name, model, x, y, epochs=args.epochs, batch_size=args.batch_size, callbacks=[path])
    return WeightTrajectory(
        folder / "trajectory.json"
    ).array()  # also right when the variant was reused


def plot_curves(curves, target):
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    for name, (steps, losses, accuracies) in curves.items():
        left.plot(steps, losses, label=name)
        right.plot(steps, accuracies, label=name)
    right.axhline(target, color="gray", ls=":", label=f"target {target:.0%}")
    left.set(
        xlabel="update",
        ylabel="mean loss (training data)",
        yscale="log",
        title="loss along the path",
    )
    right.set(
        xlabel="update", ylabel="accuracy", ylim=(-0.02, 1.02), title="accuracy along the path"
    )
    left.legend()
    right.legend()
    figure.tight_layout()
    return figure


def main(argv=None):
    parser = runner.tutorial_parser(TUTORIAL, __doc__)
    parser.add_argument(
        "--start-w", type=float, default=-6.0, help="starting weight (default -6: badly wrong)"
    )
    parser.add_argument("--start-b", type=float, default=0.0, help="starting bias (default 0)")
    parser.add_argument(
        "--learning-rate", type=runner.positive_float, default=1.0, help="SGD step size"
    )
    parser.add_argument(
        "--epochs", type=runner.positive_int, help="epochs of 10 updates (default 100; quick 3)"
    )
    parser.add_argument("--batch-size", type=runner.positive_int, default=20)
    parser.add_argument("--target-accuracy", type=runner.positive_float, default=0.9)
    args = parser.parse_args(argv)
    args.epochs = args.epochs or (3 if args.quick else 100)
    x, y = surface.two_class_data(n=200, seed=args.seed)
    w_grid = np.linspace(-10, 10, 41 if args.quick else 201)
    b_grid = np.linspace(-10, 10, 41 if args.quick else 201)

    with runner.Run(TUTORIAL, args) as run:
        # 1. The two loss surfaces over the same (w, b) grid.
        surfaces = {
            name: surface.loss_surface(name, x, y, w_grid, b_grid) for name in surface.LOSSES
        }
        run.figure("loss_surfaces", surface.plot_surfaces(surfaces, w_grid, b_grid))

        # 2. The same model, optimiser and bad start; only the loss differs.
        rows, paths, curves = [], {}, {}
        for name in surface.LOSSES:
            path = train_from(run, name, x, y, args)
            steps, ws, bs = path[:, 0], path[:, 1], path[:, 2]
            accuracies = surface.accuracy(ws, bs, x, y)
            paths[name] = (ws, bs)
            curves[name] = (steps, surface.loss_along(name, ws, bs, x, y), accuracies)
            reached = surface.steps_to_accuracy(accuracies[1:], args.target_accuracy)
            rows.append(
                {
                    "loss": name,
                    "start (w, b)": f"({ws[0]:.2g}, {bs[0]:.2g})",
                    "updates": int(steps[-1]),
                    "final (w, b)": f"({ws[-1]:.3g}, {bs[-1]:.3g})",
                    "final loss": float(curves[name][1][-1]),
                    "final accuracy": float(accuracies[-1]),
                    f"updates to {args.target_accuracy:.0%}": reached
                    or f"not within {int(steps[-1])}",
                }
            )
        run.figure("surfaces_with_paths", surface.plot_surfaces(surfaces, w_grid, b_grid, paths))
        run.figure("curves", plot_curves(curves, args.target_accuracy))
        run.table(
            f"From a bad start, SGD lr={args.learning_rate}: updates to {args.target_accuracy:.0%} accuracy",
            rows,
        )


if __name__ == "__main__":
    runner.cli_main(main)
