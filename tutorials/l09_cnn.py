"""Lecture 9: CNNs on Fashion-MNIST, as neurons and as filters, and what they are not invariant to.

1. A fully connected network against a CNN (receptive field + parameter sharing): parameters and
   test accuracy side by side; the CNN is the tutorial's best model. Its convolutions are then
   swapped for mlcourse.layers.ReceptiveFieldConv2D (the lecture's "neuron version") holding the same
   weights: same predictions, the two stories are one layer.
2. Stride, padding and pooling variants of a small CNN: accuracy, parameters and compute
   (multiply-adds per image, training seconds per epoch).
3. Invariance, measured: test accuracy on test images rotated, scaled and shifted, for a CNN without
   augmentation, with augmentation (RandomRotation, RandomZoom, RandomTranslation) and with a
   SpatialTransformer in front (trained on the same augmented images: it learns to undo what it sees).

TensorBoard: Scalars (loss/accuracy per model), Images (filters/conv1 and feature_maps/conv1 of the
CNN per epoch; the invariance plot), Text (the tables).
"""

import keras
import matplotlib
import numpy as np

matplotlib.use("Agg")

from mlcourse import runner  # noqa: E402
from mlcourse.analysis import invariance  # noqa: E402
from mlcourse.callbacks.filter_images import FilterImages  # noqa: E402
from mlcourse.data import fashion_mnist  # noqa: E402
from mlcourse.layers import ReceptiveFieldConv2D, SpatialTransformer, multiply_adds  # noqa: E402

TUTORIAL = {
    "id": "l09-cnn",
    "lecture": "9",
    "title": "CNNs as neurons and as filters; invariance measured",
}
L = keras.layers


def fully_connected():
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            L.Flatten(),
            L.Dense(256, activation="relu"),
            L.Dense(128, activation="relu"),
            L.Dense(10),
        ],
        name="fc",
    )


def best_cnn(conv=L.Conv2D):
    """Three conv + max-pool stages (28 -> 14 -> 7 -> 3), then a small classifier.

    ``conv`` is ``keras.layers.Conv2D`` or ``mlcourse.layers.ReceptiveFieldConv2D`` (same weights)."""
    stages = []
    for i, filters in enumerate((32, 64, 128), start=1):
        stages += [
            conv(filters, 3, padding="same", activation="relu", name=f"conv{i}"),
            L.MaxPooling2D(),
        ]
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            *stages,
            L.Flatten(),
            L.Dropout(0.3),
            L.Dense(64, activation="relu"),
            L.Dropout(0.3),
            L.Dense(10),
        ],
        name="cnn",
    )


def small_cnn(padding="same", strides=1, pooling=L.MaxPooling2D, front=()):
    """16 then 32 filters of 3 × 3; ``pooling=None`` drops pooling; ``front`` layers go first."""
    stages = []
    for filters in (16, 32):
        stages.append(L.Conv2D(filters, 3, strides=strides, padding=padding, activation="relu"))
        stages += [pooling(2)] if pooling else []
    return keras.Sequential([keras.Input((28, 28, 1)), *front, *stages, L.Flatten(), L.Dense(10)])


def AUGMENT():
    return [
    L.RandomRotation(0.125, fill_mode="constant"),  # noqa: E731  ±45°
    L.RandomZoom((-0.3, 0.3), fill_mode="constant"),  # ±30 %
    L.RandomTranslation(0.15, 0.15, fill_mode="constant"),
]  # ±4 pixels
VARIANTS = {  # name: small_cnn arguments
    "3x3-same-maxpool": {},
    "3x3-same-meanpool": {"pooling": L.AveragePooling2D},
    "3x3-valid-maxpool": {"padding": "valid"},
    "3x3-same-stride2-nopool": {"strides": 2, "pooling": None},
    "3x3-same-nopool": {"pooling": None},
}
INVARIANCE_MODELS = {
    "cnn": {},
    "cnn+augment": {"front": AUGMENT},
    "stn+augment": {
        "front": lambda: AUGMENT() + [SpatialTransformer(localization_filters=(8, 16))]
    },
}


def load_data(quick):
    (x, y), (x_test, y_test) = fashion_mnist.load()
    x, x_test = (a[..., None].astype("float32") / 255.0 for a in (x, x_test))
    if quick:
        return (x[:2000], y[:2000]), (x[-500:], y[-500:]), (x_test[:500], y_test[:500])
    return (x[:55000], y[:55000]), (x[55000:], y[55000:]), (x_test, y_test)


def train(run, name, build, data, epochs, args, callbacks=()):
    (x, y), validation, (x_test, y_test) = data
    with run.scope():
        model = build()
        model.compile(
            keras.optimizers.Adam(args.learning_rate),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        run.fit(
            name,
            model,
            x,
            y,
            epochs=epochs,
            batch_size=args.batch_size,
            validation_data=validation,
            callbacks=callbacks,
        )
    seconds = run.state["variants"].get(name, {}).get("seconds")
    row = {
        "model": name,
        "params": model.count_params(),
        "multiply-adds": multiply_adds(model),
        "s/epoch": round(seconds / epochs, 1) if seconds else "-",
        "test accuracy": float(model.evaluate(x_test, y_test, verbose=0)[1]),
    }
    return model, row


def main(argv=None):
    parser = runner.tutorial_parser(TUTORIAL, __doc__)
    parser.add_argument(
        "--epochs", type=runner.positive_int, help="epochs of section 1 (default 15; quick 1)"
    )
    parser.add_argument(
        "--variant-epochs",
        type=runner.positive_int,
        help="epochs of section 2 (default 5; quick 1)",
    )
    parser.add_argument(
        "--invariance-epochs",
        type=runner.positive_int,
        help="epochs of section 3 (default 10; quick 1)",
    )
    parser.add_argument("--batch-size", type=runner.positive_int, default=128)
    parser.add_argument("--learning-rate", type=runner.positive_float, default=1e-3)
    args = parser.parse_args(argv)
    epochs = args.epochs or (1 if args.quick else 15)
    variant_epochs = args.variant_epochs or (1 if args.quick else 5)
    invariance_epochs = args.invariance_epochs or (1 if args.quick else 10)
    data = load_data(args.quick)
    x_test, y_test = data[2]

    with runner.Run(TUTORIAL, args) as run:
        # 1. Fully connected vs CNN; then the CNN's convolutions told as neurons.
        images = FilterImages(run.variant_dir("cnn") / "images", "conv1", x_test[:4])
        _, fc_row = train(run, "fc", fully_connected, data, epochs, args)
        cnn, cnn_row = train(run, "cnn", best_cnn, data, epochs, args, callbacks=[images])
        images.set_model(cnn)  # also when the CNN was reloaded from an earlier, interrupted run
        images.write(epochs)
        run.table("Fully connected vs CNN (Fashion-MNIST test set)", [fc_row, cnn_row])
        run.text(
            "best_cnn",
            f"Best CNN: test accuracy {cnn_row['test accuracy']:.2%} with "
            f"{cnn_row['params']:,} parameters; the fully connected net: {fc_row['test accuracy']:.2%} with "
            f"{fc_row['params']:,}. Target >= 91%: "
            f"{'met' if cnn_row['test accuracy'] >= 0.91 else 'NOT met'}.",
        )
        neurons = best_cnn(conv=ReceptiveFieldConv2D)
        neurons.set_weights(cnn.get_weights())
        same = np.argmax(neurons.predict(x_test, verbose=0), -1) == np.argmax(
            cnn.predict(x_test, verbose=0), -1
        )
        gap = np.max(
            np.abs(neurons.predict(x_test[:256], verbose=0) - cnn.predict(x_test[:256], verbose=0))
        )
        run.text(
            "neuron_version",
            f"The CNN rebuilt from ReceptiveFieldConv2D (one shared neuron per receptive "
            f"field) with the CNN's weights: same class for {same.mean():.2%} of the test images; largest "
            f"logit difference {gap:.2g}.",
        )

        # 2. Stride, padding and pooling.
        chosen = list(VARIANTS)[:1] if args.quick else list(VARIANTS)
        rows = [
            train(run, name, lambda: small_cnn(**VARIANTS[name]), data, variant_epochs, args)[1]
            for name in chosen
        ]
        run.table(f"Stride, padding and pooling ({variant_epochs} epochs each)", rows)

        # 3. Invariance to rotation, scale and shift, measured.
        models = {}
        for name, options in INVARIANCE_MODELS.items():
            build = lambda: small_cnn(front=options.get("front", list)())  # noqa: B023, E731
            models[name], _ = train(run, f"invariance-{name}", build, data, invariance_epochs, args)
        rows = invariance.accuracy_under_transforms(models, x_test, y_test)
        run.table("Test accuracy on transformed test images", rows)
        run.figure("invariance", invariance.plot_invariance(rows, list(models)))


if __name__ == "__main__":
    runner.cli_main(main)
