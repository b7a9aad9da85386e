"""Lecture 3: the training-strategy playbook. Diagnose first (which branch of the flow chart?), then fix.

Every branch measured, and each pair of models read by mlcourse.analysis.diagnosis.diagnose:
1. Model bias (daily series): with one day of history a linear model and a ReLU net both stay above
   the target training MSE (--series-target); more features (7 days of history) bring it under.
2. Optimization (Fashion-MNIST): plain deep stacks, no normalisation or residuals: 56 layers end
   with a HIGHER training loss than 20 layers, so it is not overfitting.
3. Overfitting (1,000 images): a big MLP's training loss falls while its validation loss rises;
   then each remedy (augmentation, fewer parameters, sharing, early stopping, L2, dropout) on the
   same setup, as one HParams experiment whose metric is the train-val gap.
4. N-fold cross-validation (scikit-learn KFold) to choose among models, with the fold table.
5. Mismatch: trained on Fashion-MNIST, validated on inverted images; more training does not help.

TensorBoard: Scalars (epoch_loss / epoch_val_loss per model), HParams (remedy vs gap), Images
(curves), Text (every table and the diagnoses).
"""

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mlcourse import runner  # noqa: E402
from mlcourse.analysis.cross_validation import cross_validate  # noqa: E402
from mlcourse.analysis.diagnosis import diagnose  # noqa: E402
from mlcourse.data import fashion_mnist, series  # noqa: E402
from mlcourse.losses import cross_entropy  # noqa: E402
from mlcourse.models import playbook, regression  # noqa: E402

TUTORIAL = {
    "id": "l03-training-strategy",
    "lecture": "3",
    "title": "Training-strategy playbook: diagnose, then fix",
}


def compiled(build, args, loss=None, learning_rate=None):
    """Build and compile with Adam; classifiers get cross-entropy on logits and accuracy.

    --quick trains eagerly: for a few batches that is faster than tracing a graph."""
    model = build()
    metrics = [] if loss else ["accuracy"]
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate or args.learning_rate),
        metrics=metrics,
        loss=loss or keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        run_eagerly=args.quick,
    )
    return model


def fit(
    run,
    name,
    build,
    x,
    y,
    validation_data,
    args,
    epochs,
    batch_size=None,
    callbacks=(),
    **compile_kwargs,
):
    """Build inside the strategy, compile, train with the runner; returns (model, history)."""
    with run.scope():
        model = compiled(build, args, **compile_kwargs)
    history = run.fit(
        name,
        model,
        x,
        y,
        epochs=epochs,
        batch_size=batch_size or args.batch_size,
        validation_data=validation_data,
        callbacks=callbacks,
    )
    return model, history


def evaluate(model, x, labels):
    """(mean cross-entropy, accuracy) on the data only: a model's L2 penalty is not part of its fit."""
    logits = keras.ops.convert_to_numpy(model(x, training=False))
    losses = cross_entropy(keras.ops.one_hot(labels, 10), logits, from_logits=True)
    return float(np.mean(keras.ops.convert_to_numpy(losses))), float(
        np.mean(logits.argmax(-1) == labels)
    )


def verdict(section, small, large, histories, target):
    result = diagnose(histories[small], histories[large], target_loss=target)
    return {
        "section": section,
        "small": small,
        "large": large,
        "diagnosis": result.branch,
        "why": result.reason,
    }


def model_bias(run, args, diagnoses):
    """Daily series, MSE in units of the training variance (0.5: half the variance explained)."""
    daily = series.load_series("hyndsight")
    first = series.window_split(daily.values, 1)
    naive = first.scaler.transform(series.naive_forecast(daily.values, first.targets_train, 7))
    last_week = float(np.mean((naive - first.y_train) ** 2))
    histories, rows = {}, []
    for name, k, build in (
        ("linear-k1", 1, lambda: regression.linear_regressor(1)),
        ("relu-2x32-k1", 1, lambda: regression.relu_regressor(1, 2, 32)),
        ("linear-k7", 7, lambda: regression.linear_regressor(7)),
    ):
        data = series.window_split(daily.values, k)
        _, histories[name] = fit(
            run,
            name,
            build,
            data.x_train,
            data.y_train,
            (data.x_val, data.y_val),
            args,
            args.series_epochs,
            batch_size=8,
            loss="mse",
            learning_rate=1e-2,
        )
        rows.append(
            {
                "model": name,
                "days of history": k,
                "best train MSE": min(histories[name].history["loss"]),
                "final val MSE": histories[name].history["val_loss"][-1],
                "target": args.series_target,
                "same day last week": last_week,
            }
        )
    run.table("1. Model bias on the daily series (normalised MSE)", rows)
    diagnoses.append(
        verdict("model bias", "linear-k1", "relu-2x32-k1", histories, args.series_target)
    )
    diagnoses.append(
        verdict("model bias, fixed", "linear-k1", "linear-k7", histories, args.series_target)
    )


def optimization(run, images, args, diagnoses):
    x, y, val = images["x"][: args.deep_samples], images["y"][: args.deep_samples], images["val"]
    histories, rows = {}, []
    for depth in args.depths:
        name = f"plain-{depth}-layers"
        model, histories[name] = fit(
            run, name, lambda: playbook.plain_stack(depth), x, y, val, args, args.deep_epochs
        )
        rows.append(
            {
                "layers": depth,
                "params": model.count_params(),
                "train loss": histories[name].history["loss"][-1],
                "train accuracy": histories[name].history["accuracy"][-1],
            }
        )
    run.table("2. Optimization: plain deep stacks (no normalisation, no residuals)", rows)
    small, large = (f"plain-{d}-layers" for d in args.depths)
    diagnoses.append(verdict("optimization", small, large, histories, args.target_loss))
    return histories


def overfitting(run, images, args, diagnoses):
    x, y, val = images["x"][: args.few], images["y"][: args.few], images["val"]
    histories, rows = {}, []
    for remedy in ("logistic",) + args.remedies:
        build = (
            playbook.logistic
            if remedy == "logistic"
            else (lambda: playbook.remedy_model(remedy, args.width))
        )
        stop = (
            [keras.callbacks.EarlyStopping(patience=5, restore_best_weights=True)]
            if remedy == "early-stopping"
            else []
        )
        model, histories[remedy] = fit(
            run, remedy, build, x, y, val, args, args.overfit_epochs, callbacks=stop
        )
        (train_loss, _), (val_loss, val_accuracy) = evaluate(model, x, y), evaluate(model, *val)
        metrics = {
            "train_loss": train_loss,
            "val_loss": val_loss,
            "gap": val_loss - train_loss,
            "val_accuracy": val_accuracy,
        }
        rows.append({"remedy": remedy, "params": model.count_params(), **metrics})
        if remedy != "logistic":
            run.log_hparams(remedy, {"remedy": remedy}, metrics)
    run.table(
        f"3. Overfitting on {args.few} images, then each remedy (gap = val loss - train loss)", rows
    )
    diagnoses.append(verdict("overfitting", "logistic", "baseline", histories, args.target_loss))
    return histories


def cross_validation(run, images, args):
    candidates = {
        "logistic": playbook.logistic,
        "mlp-1x64": lambda: playbook.mlp(1, 64),
        f"mlp-2x{args.width}": lambda: playbook.mlp(2, args.width),
    }
    candidates = dict(list(candidates.items())[: 2 if args.quick else 3])

    def builder(make):
        def build():
            with run.scope():
                return compiled(make, args)

        return build

    result = cross_validate(
        {name: builder(make) for name, make in candidates.items()},
        images["x"][: args.few],
        images["y"][: args.few],
        n_folds=args.folds,
        epochs=args.cv_epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        fit=run.fit,
    )
    run.table(
        f"4. {args.folds}-fold cross-validation on {args.few} images: validation loss per fold",
        result.fold_table(),
    )
    run.text("cv_choice", f"Cross-validation chooses {result.best} (lowest mean validation loss).")


def mismatch(run, images, args, diagnoses):
    x, y = images["x"][: args.deep_samples], images["y"][: args.deep_samples]
    x_test, y_test = images["test"]
    shifted = (playbook.shift_images(x_test), y_test)
    histories, rows = {}, []
    for name, build in (
        ("logistic-shifted", playbook.logistic),
        ("mlp-shifted", lambda: playbook.mlp(1, args.width)),
    ):
        model, histories[name] = fit(run, name, build, x, y, shifted, args, args.mismatch_epochs)
        accuracy = histories[name].history["val_accuracy"]
        rows.append(
            {
                "model": name,
                "test accuracy (same distribution)": evaluate(model, x_test, y_test)[1],
                "inverted: after epoch 1": accuracy[0],
                "best": max(accuracy),
                "last": accuracy[-1],
            }
        )
    run.table("5. Mismatch: trained on Fashion-MNIST, validated on inverted test images", rows)
    diagnoses.append(
        verdict("mismatch", "logistic-shifted", "mlp-shifted", histories, args.target_loss)
    )
    return histories


def plot_curves(deep, overfit, shifted):
    figure, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    for name, history in deep.items():
        axes[0].plot(history.history["loss"], label=f"{name} (train)")
    for key in ("loss", "val_loss"):
        axes[1].plot(overfit["baseline"].history[key], label=f"baseline {key}")
        axes[2].plot(shifted["mlp-shifted"].history[key], label=f"mlp {key} (val = inverted)")
    titles = (
        "optimization: training loss",
        "overfitting: train vs validation",
        "mismatch: more training",
    )
    for axis, title in zip(axes, titles):
        axis.set(title=title, xlabel="epoch", ylabel="cross-entropy")
        axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def main(argv=None):
    parser = runner.tutorial_parser(TUTORIAL, __doc__)
    parser.add_argument("--learning-rate", type=runner.positive_float, default=1e-3)
    parser.add_argument("--batch-size", type=runner.positive_int, default=32)
    parser.add_argument(
        "--target-loss",
        type=runner.positive_float,
        default=0.45,
        help="the cross-entropy you would accept on Fashion-MNIST (about 84%% accuracy)",
    )
    parser.add_argument(
        "--series-target",
        type=runner.positive_float,
        default=0.5,
        help="the normalised MSE you would accept on the series (0.5: half the variance)",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    args.depths = (2, 4) if quick else (20, 56)
    args.remedies = ("baseline", "augmentation", "early-stopping") if quick else playbook.REMEDIES
    args.width = 32 if quick else 256
    args.deep_samples, args.few, args.folds = (256, 120, 2) if quick else (5000, 1000, 3)
    args.series_epochs, args.deep_epochs, args.overfit_epochs = (1, 1, 2) if quick else (10, 5, 20)
    args.cv_epochs, args.mismatch_epochs = (1, 1) if quick else (8, 5)
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load()
    x_train, x_test = (x_train / 255.0).astype("float32"), (x_test / 255.0).astype("float32")
    n_val = 300 if quick else 5000
    images = {
        "x": x_train[:-n_val],
        "y": y_train[:-n_val],
        "val": (x_train[-n_val:], y_train[-n_val:]),
        "test": (x_test[:n_val], y_test[:n_val]),
    }

    with runner.Run(TUTORIAL, args) as run:
        diagnoses = []
        model_bias(run, args, diagnoses)
        deep = optimization(run, images, args, diagnoses)
        overfit = overfitting(run, images, args, diagnoses)
        cross_validation(run, images, args)
        shifted = mismatch(run, images, args, diagnoses)
        run.figure("curves", plot_curves(deep, overfit, shifted))
        run.table("The flow chart, read off each pair of histories (diagnose)", diagnoses)


if __name__ == "__main__":
    runner.cli_main(main)
