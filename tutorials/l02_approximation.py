"""Lecture 2, question 1: can sums of hard sigmoids approximate any continuous function of n features?

Slides 23-26 build a 1-D piecewise-linear curve from hard sigmoids; slide 30 writes the same model
for n features without proof. This tutorial builds the approximators by hand, with no training
(mlcourse.analysis.approximation): the 1-D interpolant with n units; in 2-D, local bumps made of two
layers of hard sigmoids (a threshold of a sum: "peel the apple"), and the lecture's one hidden layer
with ramps along many directions. It measures the max error on a dense grid as the units grow, then
trains a SigmoidSum of the same size with Adam on samples of the same function and compares.

TensorBoard: Images (1-D curves, 2-D heatmaps, max error vs units), Scalars (the trained models'
epoch_loss), Text (the tables and the answer).
"""

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mlcourse import runner  # noqa: E402
from mlcourse.analysis import approximation  # noqa: E402
from mlcourse.layers import SigmoidSum  # noqa: E402

TUTORIAL = {
    "id": "l02-approximation",
    "lecture": "2",
    "title": "Question 1: sums of hard sigmoids approximate any continuous function",
}

BOX = (-1.0, 1.0)


def curve(x):
    """The 1-D target: a wiggle on a parabola."""
    return np.sin(3 * x[:, 0]) + 0.3 * x[:, 0] ** 2


def surface(x):
    """The 2-D target: not a sum of a function of x and one of y, so it needs real 2-D pieces."""
    return np.sin(3 * x[:, 0]) * np.cos(2 * x[:, 1]) + 0.5 * np.exp(
        -2 * (x[:, 0] ** 2 + x[:, 1] ** 2)
    )


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


def ramps_inside_the_box(layer, rng, slope=2.0):
    """Start each unit as a ramp (random direction, given slope) centred at a random point of the box.

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


def train_sigmoid_sum(run, f, dim, units, args):
    """Fit SigmoidSum(units, "hard_sigmoid") with Adam on uniform samples of f; returns the model."""
    rng = np.random.default_rng(run.seed)
    x = rng.uniform(*BOX, size=(args.samples * dim, dim)).astype("float32")
    y = f(x).astype("float32")[:, None]
    with run.scope():
        model = keras.Sequential([keras.Input((dim,)), SigmoidSum(units, unit="hard_sigmoid")])
        ramps_inside_the_box(model.layers[-1], rng)
        steps = args.epochs * -(-len(x) // args.batch_size)  # epochs · ceil(N / B) updates
        schedule = keras.optimizers.schedules.CosineDecay(args.learning_rate, decay_steps=steps)
        model.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse")
    run.fit(f"trained-{dim}d-{units}", model, x, y, epochs=args.epochs, batch_size=args.batch_size)
    return model


def predictor(model):
    return lambda x: model.predict(np.asarray(x, "float32"), batch_size=4096, verbose=0)[:, 0]


def plot_curves(constructions, trained):
    figure, axis = plt.subplots(figsize=(7, 4))
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
    figure, axes = plt.subplots(
        2, len(approximators) + 1, figsize=(3 * (len(approximators) + 1), 5.6)
    )
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
    figure, axis = plt.subplots(figsize=(7, 4.5))
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


def answer(curve_rows, bump_rows, ridge_rows, compared):
    def shrinks(rows):
        return all(a["max error"] > b["max error"] for a, b in zip(rows, rows[1:]))

    lines = []
    for name, rows in (
        ("1-D, one layer", curve_rows),
        ("2-D local bumps, two layers", bump_rows),
        ("2-D ridge sums, one layer", ridge_rows),
    ):
        first, last = rows[0], rows[-1]
        lines.append(
            f"- {name}: max error {first['max error']:.3g} with {first['units']} units -> "
            f"{last['max error']:.3g} with {last['units']} units (about units^{slope(rows):.2f}; "
            f"{'shrinking at every step' if shrinks(rows) else 'NOT shrinking at every step'})."
        )
    for trained, built in zip(compared[::2], compared[1::2]):
        better = (
            "training beat"
            if trained["max error"] < built["max error"]
            else "training did not beat"
        )
        lines.append(
            f"- {trained['dim']}-D, {trained['units']} units: Adam reached max error "
            f"{trained['max error']:.3g} (mean {trained['mean error']:.3g}); the construction "
            f"{built['max error']:.3g} (mean {built['mean error']:.3g}): {better} the construction."
        )
    converged = shrinks(curve_rows) and shrinks(bump_rows) and shrinks(ridge_rows)
    verdict = (
        "Yes, measured here: the max error keeps falling as units are added, in 1-D and in 2-D."
        if converged
        else "Not shown by these numbers: some max error did not fall as units grew."
    )
    return "\n".join(
        [
            f"**Question 1.** {verdict}",
            *lines,
            "The exact local bumps need a threshold of a sum, i.e. a second layer of hard sigmoids; "
            "one hidden layer gets there with ridge units along many directions (see "
            "mlcourse.analysis.approximation).",
        ]
    )


def main(argv=None):
    parser = runner.tutorial_parser(TUTORIAL, __doc__)
    parser.add_argument(
        "--epochs", type=runner.positive_int, help="training epochs (default 150; quick 3)"
    )
    parser.add_argument(
        "--learning-rate", type=runner.positive_float, default=0.01, help="Adam's, cosine-decayed"
    )
    parser.add_argument("--batch-size", type=runner.positive_int, default=32)
    parser.add_argument(
        "--samples", type=runner.positive_int, help="training samples per feature (1024; quick 256)"
    )
    args = parser.parse_args(argv)
    args.epochs = args.epochs or (3 if args.quick else 150)
    args.samples = args.samples or (256 if args.quick else 1024)
    units_1d = (2, 4, 8, 16, 32) if args.quick else (2, 4, 8, 16, 32, 64, 128, 256)
    cells = (2, 4, 8) if args.quick else (2, 4, 8, 16, 32)
    ridges = (4, 8) if args.quick else (4, 6, 8, 12, 16, 24)
    trained_1d, trained_2d = (
        ((8,), (4,)) if args.quick else ((8, 32), (4, 8, 16))
    )  # 2-D: D = m, units D²

    with runner.Run(TUTORIAL, args) as run:
        # 1. Constructions, no training: max error vs units.
        curve_rows = sweep(
            "1-D piecewise linear",
            lambda n: approximation.piecewise_linear(curve, n, *BOX),
            units_1d,
            curve,
            1,
        )
        bump_rows = sweep(
            "2-D local bumps",
            lambda m: approximation.local_bumps(surface, m, *BOX, dim=2),
            cells,
            surface,
            2,
        )
        ridge_rows = sweep(
            "2-D ridge sum",
            lambda d: approximation.ridge_sum(surface, d, d, *BOX, seed=run.seed),
            ridges,
            surface,
            2,
        )
        run.table(
            "Constructed (no training): units -> error on a dense grid",
            curve_rows + bump_rows + ridge_rows,
        )

        # 2. The same sizes trained with Adam: SigmoidSum(units, "hard_sigmoid") vs the construction.
        compared, models = [], {}
        for dim, f, sizes in ((1, curve, trained_1d), (2, surface, trained_2d)):
            for size in sizes:
                built = (
                    approximation.piecewise_linear(curve, size, *BOX)
                    if dim == 1
                    else approximation.ridge_sum(surface, size, size, *BOX, dim=2, seed=run.seed)
                )
                model = models[dim, built.units] = train_sigmoid_sum(run, f, dim, built.units, args)
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

        # 3. Figures and the answer.
        run.figure(
            "1d_target_vs_approximation",
            plot_curves(
                [approximation.piecewise_linear(curve, n, *BOX) for n in (4, 8)], models[1, 8]
            ),
        )
        d = trained_2d[-1] if args.quick else 8  # ridge sum and trained model of the same size
        run.figure(
            "2d_target_vs_approximation",
            plot_surfaces(
                {
                    "local bumps, 2 layers, m=8": approximation.local_bumps(
                        surface, 8, *BOX, dim=2
                    ),
                    f"ridge sum, 1 layer, {d}×{d} units": approximation.ridge_sum(
                        surface, d, d, *BOX, dim=2, seed=run.seed
                    ),
                    f"trained SigmoidSum, {d * d} units": predictor(models[2, d * d]),
                }
            ),
        )
        run.figure(
            "max_error_vs_units",
            plot_error_vs_units(
                {
                    "1-D piecewise linear (1 layer)": curve_rows,
                    "2-D local bumps (2 layers)": bump_rows,
                    "2-D ridge sum (1 layer)": ridge_rows,
                },
                compared,
            ),
        )
        run.text("answer", answer(curve_rows, bump_rows, ridge_rows, compared))


if __name__ == "__main__":
    runner.cli_main(main)
