"""Lecture 2: predict tomorrow's page views from the previous days, from y = b + w·x1 to deep ReLU nets.

In the lecture's order: the one-feature linear model; linear models on 7, 28 and 56 days; sums of
sigmoids, hard sigmoids and ReLUs (mlcourse.layers.SigmoidSum) at several widths; deeper ReLU
networks with 1-4 hidden layers. Every model is scored in page views (MAE) on the same train /
validation / test days, next to two naive baselines (yesterday; same day last week). Then "deep vs
fat" (slide 57): one parameter budget spent on one wide layer or on several narrow ones. Updates per
epoch = ceil(N / B) are printed.

How a model is chosen (fixed before the test days are looked at): every configuration is trained
from --seeds initialisations and predicts their average (regression.average_of); the configuration
with the lowest validation MAE is the best model, and its test MAE is the figure. The table also
shows the single seeds' test MAE, to see how much one initialisation alone would have decided.
--hold-back-days 46 leaves the test period out entirely, to try a protocol on the earlier days.

TensorBoard: Scalars (epoch_loss per model; learning_rate per update), Images (predictions),
Text (the tables).
"""

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mlcourse import runner  # noqa: E402
from mlcourse.data import series  # noqa: E402
from mlcourse.models import regression  # noqa: E402

TUTORIAL = {
    "id": "l02-regression",
    "lecture": "2",
    "title": "Predicting daily page views: linear to deep",
}

LAGS = (1, 7, 28, 56)


def predict_views(model, data, split):
    return data.scaler.inverse(model.predict(getattr(data, f"x_{split}"), verbose=0)[:, 0])


def mae_in_views(model, data, split):
    truth = data.scaler.inverse(getattr(data, f"y_{split}"))
    return float(np.mean(np.abs(predict_views(model, data, split) - truth)))


def fit_one(run, variant, build, data, args):
    """Build (inside the strategy) and fit with early stopping on validation MAE."""
    with run.scope():
        model = build(variant.replace("-", "_"))  # members of one average need distinct names
        model.compile(optimizer=keras.optimizers.Adam(args.learning_rate), loss="mae")
    stop = keras.callbacks.EarlyStopping(patience=args.patience, restore_best_weights=True)
    history = run.fit(
        variant,
        model,
        data.x_train,
        data.y_train,
        epochs=args.epochs,
        batch_size=args.batch_size,
        validation_data=(data.x_val, data.y_val),
        callbacks=[stop],
    )
    return model, run.updates(variant) / max(1, len(history.epoch))


def train(run, name, build, data, args):
    """Train one configuration from ``--seeds`` initialisations; score their average in views."""
    members, updates = [], []
    for offset in range(args.seeds):
        keras.utils.set_random_seed(
            args.seed + offset
        )  # the same initialisations however the run goes
        model, per_epoch = fit_one(run, f"{name}-seed{args.seed + offset}", build, data, args)
        members.append(model)
        updates.append(per_epoch)
    model = regression.average_of(members, name=name.replace("-", "_"))
    row = {
        "model": name,
        "k": data.k,
        "params": members[0].count_params(),
        "updates/epoch": round(np.mean(updates), 1),
    }
    row.update(
        {f"{split} MAE": mae_in_views(model, data, split) for split in ("train", "val", "test")}
    )
    singles = [mae_in_views(member, data, "test") for member in members]
    row["test MAE, single seeds"] = f"{min(singles):.1f}-{max(singles):.1f}"
    return model, row


def baseline_rows(values, data):
    rows = []
    for name, lag in (("yesterday", 1), ("same day last week", 7)):
        row = {"model": name, "k": "-", "params": 0, "updates/epoch": "-"}
        for split in ("train", "val", "test"):
            targets = getattr(data, f"targets_{split}")
            row[f"{split} MAE"] = float(
                np.mean(np.abs(series.naive_forecast(values, targets, lag) - values[targets]))
            )
        rows.append(row)
    return rows


def plot_predictions(daily, data, model, title):
    figure, axis = plt.subplots(figsize=(10, 3.5))
    for split, style in (("val", "tab:orange"), ("test", "tab:red")):
        days = getattr(data, f"targets_{split}")
        truth = daily.values[days]
        prediction = predict_views(model, data, split)
        axis.plot(
            daily.dates[days], truth, color="black", lw=1, label="truth" if split == "val" else None
        )
        axis.plot(daily.dates[days], prediction, color=style, lw=1.5, label=f"{title} ({split})")
        axis.plot(
            daily.dates[days],
            series.naive_forecast(daily.values, days, 7),
            color="gray",
            ls=":",
            lw=1,
            label="same day last week" if split == "val" else None,
        )
    axis.set_ylabel(f"{daily.name} per day")
    axis.legend(fontsize=8)
    figure.autofmt_xdate()
    return figure


def main(argv=None):
    parser = runner.tutorial_parser(TUTORIAL, __doc__)
    parser.add_argument(
        "--series", choices=sorted(series.SERIES), default="hyndsight", help="which daily series"
    )
    parser.add_argument(
        "--epochs", type=runner.positive_int, help="maximum epochs (default 400; quick 5)"
    )
    parser.add_argument("--batch-size", type=runner.positive_int, default=32)
    parser.add_argument("--learning-rate", type=runner.positive_float, default=3e-3)
    parser.add_argument(
        "--relu-width", type=runner.positive_int, default=32, help="width of the deep ReLU nets"
    )
    parser.add_argument(
        "--patience", type=runner.positive_int, default=40, help="early-stopping patience"
    )
    parser.add_argument(
        "--seeds",
        type=runner.positive_int,
        help="initialisations per configuration (default 5; quick 2)",
    )
    parser.add_argument(
        "--hold-back-days",
        type=runner.nonnegative_int,
        default=0,
        help="leave the last N days out (46 = hyndsight's test days) to try a protocol without them",
    )
    args = parser.parse_args(argv)
    args.epochs = args.epochs or (5 if args.quick else 400)
    args.seeds = args.seeds or (2 if args.quick else 5)
    widths = (4,) if args.quick else (4, 16, 64)
    depths = (1, 2) if args.quick else (1, 2, 3, 4)
    daily = series.load_series(args.series).without_last(args.hold_back_days)

    with runner.Run(TUTORIAL, args) as run:
        # 1. Linear models on 1, 7, 28, 56 days; the best k (on validation) feeds the non-linear models.
        rows, models, datasets = [], {}, {}
        for k in LAGS[:2] if args.quick else LAGS:
            data = series.window_split(daily.values, k, max_lag=max(LAGS))
            models[f"linear-k{k}"], row = train(
                run, f"linear-k{k}", lambda name: regression.linear_regressor(k, name), data, args
            )
            rows.append(row)
            datasets[f"linear-k{k}"] = data
        k = min((row for row in rows), key=lambda row: row["val MAE"])["k"]
        data = series.window_split(daily.values, k, max_lag=max(LAGS))
        batch = run.global_batch(args.batch_size)  # = --batch-size on one device
        run.text(
            "updates_per_epoch",
            f"N = {len(data.x_train)} training days, B = {batch}: "
            f"{regression.updates_per_epoch(len(data.x_train), batch)} updates per epoch (ceil(N/B)).",
        )

        # 2. Sums of sigmoids / hard sigmoids / ReLUs; 3. deeper ReLU networks.
        for unit in ("sigmoid", "hard_sigmoid", "relu"):
            for width in widths:
                name = f"{unit}-sum-{width}-k{k}"
                models[name], row = train(
                    run,
                    name,
                    lambda name: regression.sigmoid_sum_regressor(k, width, unit, name),
                    data,
                    args,
                )
                rows.append(row)
                datasets[name] = data
        for depth in depths:
            name = f"relu-{depth}x{args.relu_width}-k{k}"
            models[name], row = train(
                run,
                name,
                lambda name: regression.relu_regressor(k, depth, args.relu_width, name),
                data,
                args,
            )
            rows.append(row)
            datasets[name] = data
        baselines = baseline_rows(daily.values, data)
        run.table(f"Lecture 2 on {args.series}: MAE in page views", rows + baselines)

        best = min(rows, key=lambda row: row["val MAE"])
        last_week = baselines[1]["test MAE"]
        verdict = run.result(
            "best_model",
            lambda: {
                "model": best["model"],
                "seeds": args.seeds,
                "test MAE": best["test MAE"],
                "below same day last week": 1 - best["test MAE"] / last_week,
            },
        )
        gain = verdict["below same day last week"]
        run.text(
            "best_model",
            f"Best on validation: {best['model']} (average of {args.seeds} seeds), test MAE "
            f"{best['test MAE']:.1f}; same day last week {last_week:.1f}: {gain:.1%} below it "
            f"({'meets' if gain >= 0.15 else 'misses'} the 15 % target).",
        )
        run.figure(
            "predictions",
            plot_predictions(daily, datasets[best["model"]], models[best["model"]], best["model"]),
        )

        # 4. Deep vs fat: the same parameter budget in one wide layer or several narrow ones.
        budget = regression.relu_parameter_count(k, 1, widths[-1] * 2)
        fat_rows = []
        for depth in depths:
            width = regression.width_for_budget(k, depth, budget)
            _, row = train(
                run,
                f"budget-{depth}x{width}",
                lambda name: regression.relu_regressor(k, depth, width, name),
                data,
                args,
            )
            fat_rows.append(
                {
                    "depth": depth,
                    "width": width,
                    **{key: row[key] for key in ("params", "train MAE", "val MAE", "test MAE")},
                }
            )
        run.table(f"Deep vs fat at about {budget} parameters", fat_rows)


if __name__ == "__main__":
    runner.cli_main(main)
