"""Lecture 8: batch normalization, written from scratch, and what it does to training.

1. Why normalise: two features on scales 1 and 10 make the error surface a long thin valley; after
   standardising it is round and gradient descent takes a much larger step (figure and table).
2. One HParams experiment on Fashion-MNIST with a sigmoid MLP: no BN / BN before the sigmoid / BN after
   it, batch size {8, 32, 128, 512}, learning rate {base, 10x base}; metrics: epochs to reach the
   target validation accuracy and the final validation accuracy.
3. Pre-activation histograms (the input of every sigmoid) drift without BN and stay put with it.
4. The student's question on gamma and beta: logged over training, and a numerical check that
   gamma = sigma, beta = mu undoes the normalisation.
5. Testing one example at a time: moving averages vs batch statistics (and what breaks without them).
6. Every norm of mlcourse.layers.normalization on one small CNN (table; --quick: four of them).

TensorBoard: HParams (the grid), Histograms (<variant>/pre_activations; <variant>/gamma_beta),
Scalars (epoch_accuracy; gamma/<layer>/mean), Images (error_surface), Text (the tables).
"""

import itertools
import time

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mlcourse import runner  # noqa: E402
from mlcourse.callbacks import ActivationHistogramLogger, NormalizationParameterLogger  # noqa: E402
from mlcourse.data import fashion_mnist  # noqa: E402
from mlcourse.layers import normalization as norms  # noqa: E402

TUTORIAL = {
    "id": "l08-batch-norm",
    "lecture": "8",
    "title": "Batch normalization from scratch, and its relatives",
}

NORMS = {  # part 6: what follows each convolution (the wrappers go around it)
    "none": None,
    "BatchNorm": norms.BatchNorm,
    "BatchRenorm": norms.BatchRenorm,
    "LayerNorm": lambda: norms.LayerNorm(axis=[1, 2, 3]),
    "GroupNorm": lambda: norms.GroupNorm(groups=4),
    "InstanceNorm": norms.InstanceNorm,
    "WeightNorm": norms.WeightNorm,
    "SpectralNorm": norms.SpectralNorm,
}
QUICK_NORMS = ("none", "BatchNorm", "GroupNorm", "WeightNorm")  # --quick: one of each kind


def elongated_surface(run, steps):
    """Part 1: y = 2 x1 + 0.3 x2 with x2 on a 10x larger scale; gradient descent before/after scaling."""
    rng = np.random.default_rng(run.seed)
    x = np.stack([rng.normal(1, 1, 200), rng.normal(10, 10, 200)], axis=1)
    y = x @ np.array([2.0, 0.3]) + rng.normal(0, 0.1, 200)
    figure, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    rows = []
    for axis, (name, features) in zip(
        axes, (("raw", x), ("standardised", (x - x.mean(0)) / x.std(0)))
    ):
        design = np.c_[features, np.ones(len(y))]
        eigen = np.linalg.eigvalsh(
            2 * design.T @ design / len(y)
        )  # the MSE's Hessian (it is quadratic)
        rate = (
            1.0 / eigen[-1]
        )  # the step that suits the steepest direction (2 / lambda_max diverges)
        best = np.linalg.lstsq(design, y, rcond=None)[0]
        w, path, losses = np.zeros(3), [], []
        for _ in range(steps):
            residual = design @ w - y
            path.append(w[:2].copy()), losses.append(np.mean(residual**2))
            w -= rate * 2 * design.T @ residual / len(y)
        rows.append(
            {
                "features": name,
                "condition number": eigen[-1] / eigen[0],
                "step 1/lambda_max": rate,
                f"MSE after {steps} steps": losses[-1],
                "best MSE": np.mean((design @ best - y) ** 2),
            }
        )
        half = (
            1.3 * np.abs(best[:2]).max()
        )  # the same span on both axes: the true shape of the valley
        g1, g2 = np.meshgrid(*(np.linspace(best[i] - half, best[i] + half, 300) for i in (0, 1)))
        grid = np.stack([g1.ravel(), g2.ravel(), np.full(g1.size, best[2])], 1)
        axis.contour(
            g1, g2, np.log(np.mean((grid @ design.T - y) ** 2, axis=1)).reshape(g1.shape), levels=30
        )
        axis.plot(*np.array(path).T, ".-", color="red", ms=3)
        axis.set(
            title=f"{name} features: log MSE(w1, w2), b at its best",
            xlabel="w1",
            ylabel="w2",
            aspect="equal",
        )
        axes[2].semilogy(losses, label=f"{name} (step {rate:.2g})")
    axes[2].set(title="gradient descent from w = 0", xlabel="step", ylabel="MSE")
    axes[2].legend()
    run.figure("error_surface", figure)
    run.table("Part 1: feature scaling and the error surface", rows)


def load_data(n_train, seed):
    (x, y), (x_test, y_test) = fashion_mnist.load()
    order = np.random.default_rng(seed).permutation(len(x))
    n_val = min(n_train // 2, 10000)
    scale = lambda images: images.reshape(len(images), 28, 28, 1).astype("float32") / 255.0  # noqa: E731
    train, val = order[:n_train], order[n_train : n_train + n_val]
    return (
        (scale(x[train]), y[train]),
        (scale(x[val]), y[val]),
        (scale(x_test[:n_val]), y_test[:n_val]),
    )


def sigmoid_mlp(bn, depth=3, units=128):
    """Dense -> [BN] -> sigmoid -> [BN], `depth` times; the layer feeding each sigmoid is `pre_act_<i>`."""
    layers = [keras.Input((28, 28, 1)), keras.layers.Flatten()]
    for i in range(1, depth + 1):
        layers.append(
            keras.layers.Dense(units, name=f"dense_{i}" if bn == "before" else f"pre_act_{i}")
        )
        layers += [norms.BatchNorm(momentum=0.9, name=f"pre_act_{i}")] if bn == "before" else []
        layers.append(keras.layers.Activation("sigmoid", name=f"sigmoid_{i}"))
        layers += [norms.BatchNorm(momentum=0.9, name=f"bn_after_{i}")] if bn == "after" else []
    return keras.Sequential(layers + [keras.layers.Dense(10, name="logits")], name=f"mlp_bn_{bn}")


def small_cnn(norm):
    layers, wrapper = [keras.Input((28, 28, 1))], norm in ("WeightNorm", "SpectralNorm")
    for filters in (16, 32):
        conv = keras.layers.Conv2D(filters, 3, padding="same")
        layers += (
            [NORMS[norm](conv)] if wrapper else [conv] + ([NORMS[norm]()] if NORMS[norm] else [])
        )
        layers += [keras.layers.Activation("relu"), keras.layers.MaxPooling2D()]
    return keras.Sequential(
        layers + [keras.layers.Flatten(), keras.layers.Dense(10)], name=f"cnn_{norm}"
    )


def train(run, name, model, data, epochs, batch_size, learning_rate, callbacks=()):
    (x, y), validation = data[0], data[1]
    with run.scope():
        model.compile(
            keras.optimizers.SGD(learning_rate, momentum=0.9),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
    return run.fit(
        name,
        model,
        x,
        y,
        epochs=epochs,
        batch_size=batch_size,
        validation_data=validation,
        callbacks=list(callbacks),
        allow_nan=True,
        verbose=0,
    )


def epochs_to_reach(accuracies, target):
    """The first epoch (1-based) whose validation accuracy reaches `target`; NaN if none does."""
    return next((float(i + 1) for i, acc in enumerate(accuracies) if acc >= target), float("nan"))


def hparams_grid(run, data, args):
    """Part 2-4: the grid; every model logs pre-activation histograms, BN models also gamma and beta."""
    rows, models = [], {}
    probe, pre_activations = data[1][0][:512], [f"pre_act_{i}" for i in (1, 2, 3)]
    for bn, batch_size, rate in itertools.product(
        ("none", "before", "after"), args.batch_sizes, args.learning_rates
    ):
        name = f"bn-{bn}_batch-{batch_size}_lr-{rate:g}"
        with run.scope():
            model = sigmoid_mlp(bn)
        folder = run.variant_dir(name)
        callbacks = [ActivationHistogramLogger(folder / "pre_activations", probe, pre_activations)]
        callbacks += [NormalizationParameterLogger(folder / "gamma_beta")] if bn != "none" else []
        accuracy = train(run, name, model, data, args.epochs, batch_size, rate, callbacks).history[
            "val_accuracy"
        ]
        metrics = {
            "epochs_to_target": epochs_to_reach(accuracy, args.target),
            "final_val_accuracy": accuracy[-1],
        }
        run.log_hparams(
            name, {"batch_norm": bn, "batch_size": batch_size, "learning_rate": rate}, metrics
        )
        rows.append({"BN": bn, "batch": batch_size, "lr": rate, **metrics})
        models[name] = model
    run.table(
        f"Part 2: epochs to {args.target:.0%} validation accuracy (nan: not reached) and final accuracy",
        rows,
    )
    return models


def gamma_beta_demo(run, model, x):
    """Part 4: the trained gamma, beta; then gamma = sigma, beta = mu gives the layer's input back."""
    rows = []
    for i in (1, 2, 3):
        layer = model.get_layer(f"pre_act_{i}")
        z = keras.ops.convert_to_numpy(
            keras.Model(model.inputs[0], layer.input)(x)
        )  # what BN receives
        undo = norms.BatchNorm.from_config(layer.get_config())
        undo.build(z.shape)
        undo.gamma.assign(np.sqrt(z.var(axis=0) + undo.epsilon))
        undo.beta.assign(z.mean(axis=0))
        error = np.abs(keras.ops.convert_to_numpy(undo(z, training=True)) - z).max()
        rows.append(
            {
                "layer": layer.name,
                "learnt gamma mean": layer.gamma.numpy().mean(),
                "learnt beta mean": layer.beta.numpy().mean(),
                "batch sigma mean": z.std(0).mean(),
                "batch mu mean": z.mean(0).mean(),
                "max |BN(z) - z|, gamma=sigma, beta=mu": error,
            }
        )
    run.table(
        "Part 4: gamma and beta are learnt; gamma = sigma, beta = mu undoes the normalisation", rows
    )


def single_example_demo(run, model, test):
    """Part 5: one example has no batch statistics; the moving averages stand in for them."""
    x, y = test
    accuracy = lambda logits: float(np.mean(np.argmax(logits, -1) == y[: len(logits)]))  # noqa: E731
    predict = lambda m, xs, training: keras.ops.convert_to_numpy(m(xs, training=training))  # noqa: E731
    copy = keras.models.clone_model(
        model
    )  # its training=True calls must not move the model's averages
    copy.set_weights(model.get_weights())
    one_by_one = np.concatenate([predict(model, x[i : i + 1], False) for i in range(32)])
    batch_stats = np.concatenate(
        [predict(copy, x[i : i + 256], True) for i in range(0, len(x), 256)]
    )
    single_stats = np.concatenate([predict(copy, x[i : i + 1], True) for i in range(32)])
    moved = predict(copy, np.concatenate([x[:1], x[-255:]]), True)[0] - batch_stats[0]
    for layer in (layer for layer in copy.layers if isinstance(layer, norms.BatchNorm)):
        (
            layer.moving_mean.assign(0 * layer.moving_mean),
            layer.moving_variance.assign(0 * layer.moving_variance + 1),
        )
    run.table(
        "Part 5: testing one example at a time",
        [
            {
                "inference uses": "moving averages",
                "batch": len(x),
                "test accuracy": accuracy(predict(model, x, False)),
                "note": f"same outputs one by one (max diff {np.abs(one_by_one - predict(model, x[:32], False)).max():.1e})",
            },
            {
                "inference uses": "test-batch statistics",
                "batch": 256,
                "test accuracy": accuracy(batch_stats),
                "note": f"example 0's logits move by {np.abs(moved).max():.3f} when its batch-mates change",
            },
            {
                "inference uses": "batch statistics of one example",
                "batch": 1,
                "test accuracy": accuracy(single_stats),
                "note": f"variance 0, all give beta: {len(np.unique(single_stats.argmax(-1)))} distinct prediction(s)",
            },
            {
                "inference uses": "no moving averages (mu=0, sigma^2=1)",
                "batch": len(x),
                "test accuracy": accuracy(predict(copy, x, False)),
                "note": "never tracked: wrong shift and scale",
            },
        ],
    )


def compare_norms(run, data, args):
    rows = []
    for norm in QUICK_NORMS if args.quick else NORMS:
        with run.scope():
            model = small_cnn(norm)
        started = time.perf_counter()
        accuracy = train(run, f"cnn-{norm}", model, data, args.cnn_epochs, 64, 0.05).history[
            "val_accuracy"
        ]
        rows.append(
            {
                "norm": norm,
                "params": model.count_params(),
                "final val accuracy": accuracy[-1],
                "seconds/epoch": (time.perf_counter() - started) / args.cnn_epochs,
            }
        )
    run.table("Part 6: every norm on one small CNN (Fashion-MNIST)", rows)


def main(argv=None):
    parser = runner.tutorial_parser(TUTORIAL, __doc__)
    parser.add_argument(
        "--epochs", type=runner.positive_int, help="epochs per MLP (default 8; quick 2)"
    )
    parser.add_argument(
        "--cnn-epochs", type=runner.positive_int, help="epochs per CNN (default 3; quick 1)"
    )
    parser.add_argument(
        "--learning-rate", type=runner.positive_float, default=0.01, help="base SGD rate (x1, x10)"
    )
    parser.add_argument(
        "--target",
        type=runner.positive_float,
        help="target val. accuracy (default 0.82; quick 0.5)",
    )
    parser.add_argument(
        "--train-size", type=runner.positive_int, help="training images (default 10000; quick 1000)"
    )
    args = parser.parse_args(argv)
    args.epochs = args.epochs or (2 if args.quick else 8)
    args.cnn_epochs = args.cnn_epochs or (1 if args.quick else 3)
    args.target = args.target or (0.5 if args.quick else 0.82)
    args.train_size = min(args.train_size or (1000 if args.quick else 10000), 50000)
    args.batch_sizes = (128,) if args.quick else (8, 32, 128, 512)
    args.learning_rates = (
        (args.learning_rate,) if args.quick else (args.learning_rate, 10 * args.learning_rate)
    )
    with runner.Run(TUTORIAL, args) as run:
        elongated_surface(run, steps=50)
        data = load_data(args.train_size, run.seed)
        models = hparams_grid(run, data, args)
        bn_model = models[f"bn-before_batch-128_lr-{args.learning_rate:g}"]
        gamma_beta_demo(run, bn_model, data[1][0][:1000])
        single_example_demo(run, bn_model, data[2])
        compare_norms(run, data, args)


if __name__ == "__main__":
    runner.cli_main(main)
