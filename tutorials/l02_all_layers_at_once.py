"""Lecture 2, the student's question 2: is each layer fitted to the loss on its own, or are all updated at once?

Answer, measured: one backward pass (backpropagation) gives the gradient of the ONE loss with
respect to every layer's weights, and one optimizer update changes every layer at once. The
tutorial prints, per layer, the gradient norm from a single backward pass and how far one update
moved that layer's weights. Then it contrasts end-to-end training with greedy layer-wise training
(train layer 1 with a temporary read-out, freeze it, add layer 2, ...), with the same number of
epochs in total, on the lecture's daily page views.

TensorBoard: Scalars (gradient_norm/<layer> every epoch for the end-to-end model; epoch_loss of
both methods), Text (the tables).
"""

import keras
import numpy as np

from mlcourse import runner
from mlcourse.callbacks import GradientNormLogger, layer_gradient_norms
from mlcourse.data import series

TUTORIAL = {
    "id": "l02-all-layers-at-once",
    "lecture": "2",
    "title": "Question 2: one backward pass updates every layer",
}


def hidden_stack(depth, width):
    return [
        keras.layers.Dense(width, activation="relu", name=f"hidden_{i + 1}") for i in range(depth)
    ]


def one_update_table(model, data, learning_rate):
    """Gradient norm per layer from one backward pass, and each layer's weight change after one SGD step."""
    x, y = data.x_train[:64], data.y_train[:64, None]
    norms = layer_gradient_norms(model, x, y)
    before = {layer.name: [w.copy() for w in layer.get_weights()] for layer in model.layers}
    model.train_on_batch(x, y)
    rows = []
    for layer in model.layers:
        moved = np.sqrt(
            sum(np.sum((a - b) ** 2) for a, b in zip(layer.get_weights(), before[layer.name]))
        )
        rows.append(
            {
                "layer": layer.name,
                "gradient norm": norms.get(layer.name, 0.0),
                "weight change": float(moved),
                "lr x gradient norm": learning_rate * norms.get(layer.name, 0.0),
            }
        )
    return rows


def mae_row(name, model, data):
    row = {"method": name}
    for split in ("train", "val", "test"):
        x, y = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
        prediction = data.scaler.inverse(model.predict(x, verbose=0)[:, 0])
        row[f"{split} MAE"] = float(np.mean(np.abs(prediction - data.scaler.inverse(y))))
    return row


def greedy_layerwise(run, data, args):
    """Stage s trains hidden layer s and a fresh read-out; layers below it are frozen."""
    trained = []
    for stage in range(1, args.depth + 1):
        for layer in trained:
            layer.trainable = False
        new_layer = keras.layers.Dense(args.width, activation="relu", name=f"hidden_{stage}")
        with run.scope():
            model = keras.Sequential(
                [keras.Input((data.k,))]
                + trained
                + [new_layer, keras.layers.Dense(1, name="readout")]
            )
            model.compile(optimizer=keras.optimizers.Adam(args.learning_rate), loss="mae")
        run.fit(
            f"greedy-stage-{stage}",
            model,
            data.x_train,
            data.y_train,
            epochs=args.epochs_per_stage,
            batch_size=args.batch_size,
            validation_data=(data.x_val, data.y_val),
        )
        trained.append(new_layer)
    return model


def main(argv=None):
    parser = runner.tutorial_parser(TUTORIAL, __doc__)
    parser.add_argument("--depth", type=runner.positive_int, default=3)
    parser.add_argument("--width", type=runner.positive_int, default=32)
    parser.add_argument(
        "--k", type=runner.positive_int, default=28, help="days of history as features"
    )
    parser.add_argument(
        "--epochs-per-stage", type=runner.positive_int, help="default 100 (quick 3)"
    )
    parser.add_argument("--batch-size", type=runner.positive_int, default=32)
    parser.add_argument("--learning-rate", type=runner.positive_float, default=3e-3)
    args = parser.parse_args(argv)
    args.epochs_per_stage = args.epochs_per_stage or (3 if args.quick else 100)
    data = series.window_split(series.load_series("hyndsight").values, args.k)

    with runner.Run(TUTORIAL, args) as run:
        with run.scope():
            model = keras.Sequential(
                [keras.Input((args.k,))]
                + hidden_stack(args.depth, args.width)
                + [keras.layers.Dense(1, name="readout")]
            )
            model.compile(optimizer=keras.optimizers.SGD(args.learning_rate), loss="mae")
        rows = one_update_table(model, data, args.learning_rate)
        run.table("One backward pass, one update: every layer", rows)
        moved = sum(row["weight change"] > 0 for row in rows)
        run.text(
            "answer",
            f"One backward pass gave a non-zero gradient to {sum(r['gradient norm'] > 0 for r in rows)} "
            f"of {len(rows)} layers, and one update moved {moved} of {len(rows)} layers: all layers are updated "
            f"together, each by its share of the same loss's gradient (not fitted one by one).",
        )

        total_epochs = args.epochs_per_stage * args.depth
        with run.scope():
            joint = keras.Sequential(
                [keras.Input((args.k,))]
                + hidden_stack(args.depth, args.width)
                + [keras.layers.Dense(1, name="readout")]
            )
            joint.compile(optimizer=keras.optimizers.Adam(args.learning_rate), loss="mae")
        probe = GradientNormLogger(
            run.variant_dir("end-to-end") / "train", data.x_train[:64], data.y_train[:64, None]
        )
        run.fit(
            "end-to-end",
            joint,
            data.x_train,
            data.y_train,
            epochs=total_epochs,
            batch_size=args.batch_size,
            validation_data=(data.x_val, data.y_val),
            callbacks=[probe],
        )
        greedy = greedy_layerwise(run, data, args)
        run.table(
            f"End-to-end vs greedy layer-wise, {total_epochs} epochs each (MAE in page views)",
            [
                mae_row("end-to-end (all layers at once)", joint, data),
                mae_row("greedy layer-wise", greedy, data),
            ],
        )


if __name__ == "__main__":
    runner.cli_main(main)
