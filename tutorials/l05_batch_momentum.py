"""Lecture 5: batch size and momentum, measured on Fashion-MNIST (one TensorBoard HParams experiment).

The same MLP (784-128-10, ReLU) is trained for the same number of epochs with plain SGD at one learning
rate, for every batch size in {16, 64, 256, 1024, the whole training set (if memory allows)} and every
momentum in {0, 0.5, 0.9} (Keras's SGD: m <- λm - ηg, θ <- θ + m, the lecture's form). For each trial:
training and validation accuracy and loss (evaluated after training), seconds per epoch and seconds
per update (mlcourse.callbacks.EpochTimer: the fastest epoch after the first, which traces the graph;
the fastest, because other programs on the machine only ever slow an epoch down).

Then the lecture's claims are printed next to what was measured here, each with a verdict computed
from the numbers:
  * time per update barely grows with the batch (parallel hardware), so
  * a small-batch epoch is slower (many more updates), not faster;
  * small batches optimise better (noisy gradients) and generalise better;
  * momentum helps.
--quick: 1024 training images, batch sizes {16, 256} x momentum {0, 0.9}, 2 epochs.

TensorBoard: HParams (batch_size, momentum -> the metrics), Scalars (<trial>/train: timing/*,
epoch_accuracy), Images (batch_size_effects), Text (the tables).
"""

import os

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mlcourse import runner  # noqa: E402
from mlcourse.callbacks.epoch_timer import EpochTimer  # noqa: E402
from mlcourse.data import fashion_mnist  # noqa: E402

TUTORIAL = {
    "id": "l05-batch-momentum",
    "lecture": "5",
    "title": "Batch size and momentum, measured",
}
FULL = "full"  # the whole training set as one batch


def load_data(n_train, n_val, seed):
    (x, y), _ = fashion_mnist.load()
    order = np.random.default_rng(seed).permutation(len(x))
    flat = lambda images: images.reshape(len(images), -1).astype("float32") / 255.0  # noqa: E731
    train, val = order[:n_train], order[len(x) - n_val :]
    return (flat(x[train]), y[train]), (flat(x[val]), y[val])


def full_batch_fits(n_train, share=0.25):
    """Whether one batch of all training images (inputs + activations + gradients) fits in `share` of RAM."""
    estimate = n_train * (784 + 128 + 10) * 4 * 4  # float32; forward, backward, a copy or two
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return estimate < share * ram


def mlp():
    return keras.Sequential(
        [keras.Input((784,)), keras.layers.Dense(128, activation="relu"), keras.layers.Dense(10)]
    )


def trial(run, args, data, batch_size, momentum):
    """Train one (batch size, momentum) cell; returns its row of metrics."""
    (x, y), (x_val, y_val) = data
    size = len(x) if batch_size == FULL else batch_size
    name = f"batch-{batch_size}_momentum-{momentum:g}"
    keras.utils.set_random_seed(run.seed)  # every cell starts from the same weights
    with run.scope():
        model = mlp()
        model.compile(
            keras.optimizers.SGD(args.learning_rate, momentum=momentum),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
    timer = EpochTimer(run.variant_dir(name) / "train")
    run.fit(
        name,
        model,
        x,
        y,
        epochs=args.epochs,
        batch_size=size,
        validation_data=(x_val, y_val),
        callbacks=[timer],
        verbose=0,
    )
    probe = slice(
        0, len(x_val)
    )  # training metrics on as many training images as there are validation ones
    train_loss, train_accuracy = model.evaluate(x[probe], y[probe], batch_size=1024, verbose=0)
    val_loss, val_accuracy = model.evaluate(x_val, y_val, batch_size=1024, verbose=0)
    metrics = {
        "train_accuracy": train_accuracy,
        "train_loss": train_loss,
        "val_accuracy": val_accuracy,
        "val_loss": val_loss,
        **timer.summary(),
    }
    run.log_hparams(name, {"batch_size": size, "momentum": float(momentum)}, metrics)
    return {
        "batch": size,
        "momentum": momentum,
        "updates/epoch": int(np.ceil(len(x) / size)),
        **metrics,
    }


def mean_over_momenta(rows, batch, key):
    return float(np.mean([r[key] for r in rows if r["batch"] == batch]))


def claims(rows):
    """The lecture's claims, what was measured, and a verdict computed from the measurements."""
    small, large = min(r["batch"] for r in rows), max(r["batch"] for r in rows)
    at = lambda batch, key: mean_over_momenta(rows, batch, key)  # noqa: E731
    update_growth, batch_growth = (
        at(large, "seconds_per_update") / at(small, "seconds_per_update"),
        large / small,
    )
    verdict = lambda holds: "holds here" if holds else "does NOT hold here"  # noqa: E731
    out = [
        {
            "claim (ML2021 L05)": "time per update hardly grows with the batch (parallel hardware)",
            "measured": f"{batch_growth:g}x larger batch: {update_growth:.3g}x longer update",
            "verdict": verdict(update_growth <= 0.25 * batch_growth)
            + " (threshold: under a quarter of proportional)",
        },
        {
            "claim (ML2021 L05)": "so a small-batch epoch is SLOWER (more updates), not faster",
            "measured": f"epoch: {at(small, 'seconds_per_epoch'):.3g} s at batch {small}, "
            f"{at(large, 'seconds_per_epoch'):.3g} s at batch {large}",
            "verdict": verdict(at(small, "seconds_per_epoch") > at(large, "seconds_per_epoch")),
        },
    ]
    out.append(
        {
            "claim (ML2021 L05)": "small batch optimises better (training accuracy), same epochs",
            "measured": f"{at(small, 'train_accuracy'):.4f} at batch {small} vs {at(large, 'train_accuracy'):.4f} "
            f"at batch {large} (mean over momenta)",
            "verdict": verdict(at(small, "train_accuracy") > at(large, "train_accuracy")),
        }
    )
    gap = lambda batch: at(batch, "train_accuracy") - at(batch, "val_accuracy")  # noqa: E731
    out.append(
        {
            "claim (ML2021 L05)": "small batch generalises better (validation accuracy), same epochs "
            "(so also far more updates: optimisation and generalisation are mixed)",
            "measured": f"{at(small, 'val_accuracy'):.4f} at batch {small} vs {at(large, 'val_accuracy'):.4f} "
            f"at batch {large}; train-val gap {gap(small):.4f} vs {gap(large):.4f}",
            "verdict": verdict(at(small, "val_accuracy") > at(large, "val_accuracy")),
        }
    )
    top = max(r["momentum"] for r in rows)
    by_batch = sorted({r["batch"] for r in rows})
    loss = {(r["batch"], r["momentum"]): r["train_loss"] for r in rows}
    helped = [b for b in by_batch if loss[(b, top)] < loss[(b, 0.0)]]
    out.append(
        {
            "claim (ML2021 L05)": "momentum helps (lower training loss)",
            "measured": f"momentum {top:g} beat 0 at {len(helped)} of {len(by_batch)} batch sizes ({helped})",
            "verdict": verdict(len(helped) > len(by_batch) / 2),
        }
    )
    return out


def effects_figure(rows):
    figure, axes = plt.subplots(1, 3, figsize=(16, 4.5))
    for momentum in sorted({r["momentum"] for r in rows}):
        chosen = sorted((r for r in rows if r["momentum"] == momentum), key=lambda r: r["batch"])
        batches = [r["batch"] for r in chosen]
        axes[0].plot(
            batches,
            [r["train_accuracy"] for r in chosen],
            "o-",
            label=f"train, momentum {momentum:g}",
        )
        axes[0].plot(
            batches,
            [r["val_accuracy"] for r in chosen],
            "s--",
            label=f"validation, momentum {momentum:g}",
        )
        axes[1].plot(
            batches, [r["seconds_per_epoch"] for r in chosen], "o-", label=f"momentum {momentum:g}"
        )
        axes[2].plot(
            batches, [r["seconds_per_update"] for r in chosen], "o-", label=f"momentum {momentum:g}"
        )
    for axis, title in zip(
        axes, ("accuracy after the same epochs", "seconds per epoch", "seconds per update")
    ):
        axis.set(xscale="log", xlabel="batch size", title=title)
        axis.legend(fontsize=8)
    axes[1].set_yscale("log"), axes[2].set_yscale("log")
    return figure


def main(argv=None):
    parser = runner.tutorial_parser(TUTORIAL, __doc__)
    parser.add_argument(
        "--epochs", type=runner.positive_int, default=5, help="epochs per trial (quick: 2)"
    )
    parser.add_argument(
        "--train-size",
        type=runner.positive_int,
        default=50000,
        help="training images (quick: 1024)",
    )
    parser.add_argument(
        "--val-size", type=runner.positive_int, default=10000, help="validation images (quick: 512)"
    )
    parser.add_argument(
        "--learning-rate", type=runner.positive_float, default=0.02, help="SGD learning rate η"
    )
    args = parser.parse_args(argv)
    batches, momenta = [16, 64, 256, 1024, FULL], [0.0, 0.5, 0.9]
    if args.quick:
        args.epochs, args.train_size, args.val_size, batches, momenta = (
            2,
            1024,
            512,
            [16, 256],
            [0.0, 0.9],
        )
    if args.train_size + args.val_size > 60000:
        parser.error(
            "--train-size plus --val-size must be at most 60000 (the training set is split)"
        )
    if FULL in batches and not full_batch_fits(args.train_size):
        batches.remove(FULL)
    with runner.Run(TUTORIAL, args) as run:
        data = load_data(args.train_size, args.val_size, run.seed)
        rows = [
            trial(run, args, data, batch, momentum) for batch in batches for momentum in momenta
        ]
        run.table(
            f"Batch size x momentum, {args.epochs} epochs, SGD η = {args.learning_rate:g}", rows
        )
        run.figure("batch_size_effects", effects_figure(rows))
        run.table("The lecture's claims next to what was measured here", claims(rows))


if __name__ == "__main__":
    runner.cli_main(main)
