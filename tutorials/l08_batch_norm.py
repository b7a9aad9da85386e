"""Lecture 8: batch normalization, written from scratch, and what it does to training.

1. Why normalise: two features on scales 1 and 10 make the error surface a long thin valley; after
   standardising it is round and gradient descent takes a much larger step (figure and table).
2. One HParams experiment on Fashion-MNIST with a sigmoid MLP: no BN / BN before the sigmoid / BN
after
   it, batch size {8, 32, 128, 512}, learning rate {base, 10x base}; metrics: epochs to reach the
   target validation accuracy and the final validation accuracy.
3. Pre-activation histograms (the input of every sigmoid) drift without BN and stay put with it.
4. The student's question on gamma and beta: logged over training, and a numerical check that
   gamma = sigma, beta = mu undoes the normalisation.
5. Testing one example at a time: moving averages vs batch statistics (and what breaks without
them).
6. Every norm of mlcourse.layers.normalization on one small CNN (--smoke: four of them; the lecture
run skips it).

TensorBoard: HParams (the grid), Histograms (<variant>/pre_activations; <variant>/gamma_beta),
Scalars (epoch_accuracy; gamma/<layer>/mean), Images (error_surface), Text (the tables).
"""

# %% [markdown]
# **Lecture 8**, "類神經網路訓練不起來怎麼辦 (五)： 批次標準化 (Batch Normalization) 簡介" (when
# training fails, part 5: an introduction to batch normalization), the slides from feature
# normalization to batch normalization in training and in testing.
#
# Features on very different scales make the error surface a long thin valley; normalizing them
# makes it rounder. Batch normalization does the same inside the network: over one batch, each
# unit's input $z^i$ is standardised with the batch's $\mu$ and $\sigma$, then scaled and shifted
# by two learned vectors:
#
# $$\tilde z^i = \frac{z^i - \mu}{\sigma}, \qquad \hat z^i = \gamma \odot \tilde z^i + \beta.$$
#
# At test time there is no batch: moving averages of $\mu$ and $\sigma$, kept during training,
# stand in for them. With a sigmoid, the notes advise normalizing before the activation.
#
# **The question from the course notes:** "What are $(\gamma, \beta)$ here, and how are they
# decided? Why not use the original $(\sigma, \mu)$, layer by layer, to get back to the first
# layer?"
#
# **What this notebook shows.** Part 1 draws the error surface of a linear model with features on
# scales 1 and 10, raw and standardised, and judges the claim that standardising turns the thin
# valley round so gradient descent gets there faster. Part 2 trains a sigmoid MLP on
# Fashion-MNIST without BN and with BN before each sigmoid (one HParams experiment over two
# learning rates and three seeds) and judges two claims: BN reaches the target accuracy in fewer
# epochs, and it tolerates a 10x larger learning rate. Part 3 logs the sigmoids' inputs as
# histograms. Part 4 answers the question: $\gamma$ and $\beta$ are learnt, and
# $\gamma = \sigma$, $\beta = \mu$ gives the layer its input back (judged). Part 5 tests one example
# at a time and judges the claim that the moving averages are needed. Part 6 (off in the lecture
# preset) trains one small CNN with each normalization of `mlcourse.layers.normalization`.

# %% [markdown]
# Away from a machine set up with `make setup` (a laptop, Colab), the next cell fetches the data
# sets that are missing, checksummed; where they are present it only checks them. (In the script
# this line is a comment.)

# %%
# %run -m mlcourse data prepare --download

# %%
import itertools
import time

import keras
import numpy as np
from matplotlib.figure import Figure

from mlcourse import runner, verdicts
from mlcourse.callbacks import ActivationHistogramLogger, NormalizationParameterLogger
from mlcourse.data import fashion_mnist
from mlcourse.layers import normalization as norms

# %% [markdown]
# The run's settings. A script reads its command-line flags instead (`--smoke`, `--full`,
# `--seed`, `--logdir`, `--epochs 12` ...); here, change them and run the notebook again.
# `smoke` is a plumbing check whose numbers mean nothing; `lecture` shows the lecture's effect in a
# few minutes on 2 CPU cores; `full` gives the headline figures.

# %% tags=["parameters"]
mode = "lecture"  # "smoke" (--smoke), "lecture" (no flag) or "full" (--full)
seed = 0  # --seed
logdir = None  # --logdir; None: $MLCOURSE_LOGDIR, else the repository's logs/
options = {}  # this tutorial's options (listed below), e.g. {"epochs": 12} for --epochs 12

# %% [markdown]
# The tutorial's metadata and options, each with its value in the three modes
# (`mlcourse run l08-batch-norm --help` lists them too). Before the options, `NORMS`: the layer
# that follows each convolution in Part 6 (`WeightNorm` and `SpectralNorm` wrap the convolution
# instead).

# %%
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
OPTIONS = {
    "epochs": {"kind": "count", "smoke": 2, "default": 8, "help": "epochs per MLP"},
    "train_size": {
        "kind": "count",
        "smoke": 1000,
        "lecture": 5000,
        "full": 10000,
        "help": "training images",
    },
    "learning_rate": {"kind": "positive", "default": 0.01, "help": "base SGD rate"},
    "rate_multipliers": {
        "kind": "counts",
        "smoke": [1],
        "default": [1, 10],
        "help": "learning rates of the grid, as multiples of the base rate",
    },
    "batch_sizes": {
        "kind": "counts",
        "smoke": [128],
        "lecture": [128],
        "full": [128, 8, 32, 512],
        "help": "batch sizes of the grid (the first one is judged)",
    },
    "placements": {
        "kind": "names",
        "choices": ["none", "before", "after"],
        "smoke": ["none", "before"],
        "lecture": ["none", "before"],
        "full": ["none", "before", "after"],
        "help": "BN before or after each sigmoid (none: without BN)",
    },
    "target": {
        "kind": "fraction",
        "smoke": 0.5,
        "lecture": 0.8,
        "full": 0.82,
        "help": "the validation accuracy to reach",
    },
    "seeds": {"kind": "count", "smoke": 1, "default": 3, "help": "seeds of the grid"},
    "compare_norms": {
        "kind": "switch",
        "default": True,
        "lecture": False,
        "help": "part 6: every norm of mlcourse.layers.normalization on a small CNN",
    },
    "norms": {
        "kind": "names",
        "choices": [
            "none",
            "BatchNorm",
            "BatchRenorm",
            "LayerNorm",
            "GroupNorm",
            "InstanceNorm",
            "WeightNorm",
            "SpectralNorm",
        ],
        "smoke": ["none", "BatchNorm", "GroupNorm", "WeightNorm"],
        "default": [
            "none",
            "BatchNorm",
            "BatchRenorm",
            "LayerNorm",
            "GroupNorm",
            "InstanceNorm",
            "WeightNorm",
            "SpectralNorm",
        ],
        "help": "the norms of part 6",
    },
    "cnn_epochs": {"kind": "count", "smoke": 1, "default": 3, "help": "epochs per CNN of part 6"},
}


# %% [markdown]
# ## Part 1: why normalise
#
# Gradient descent on the MSE of a linear model, from $w = 0$, with the largest step that suits
# the steepest direction ($1/\lambda_{\max}$ of the Hessian; $2/\lambda_{\max}$ diverges). The
# ratio $\lambda_{\max}/\lambda_{\min}$, the condition number, says how thin the valley is: the
# thinner, the slower the flat direction goes. `draw_valley` draws log MSE over $(w_1, w_2)$ with
# the path on it.


# %%
def descend(design, y, steps):
    """Gradient descent on the MSE of a linear model from w = 0, with the step 1/λ_max.

    Returns the Hessian's eigenvalues, the step, the path of (w1, w2) and the losses.
    """
    eigen = np.linalg.eigvalsh(2 * design.T @ design / len(y))  # the MSE's Hessian (quadratic)
    rate = 1.0 / eigen[-1]  # the step that suits the steepest direction (2 / λ_max diverges)
    w, path, losses = np.zeros(design.shape[1]), [], []
    for _ in range(steps):
        residual = design @ w - y
        path.append(w[:2].copy())
        losses.append(np.mean(residual**2))
        w -= rate * 2 * design.T @ residual / len(y)
    return eigen, rate, np.array(path), losses


def draw_valley(figure, axis, name, design, y, best, path):
    """log MSE over (w1, w2) with b at its best, the same span on both axes, and the path."""
    half = 1.3 * np.abs(best[:2]).max()
    g1, g2 = np.meshgrid(*(np.linspace(best[i] - half, best[i] + half, 300) for i in (0, 1)))
    grid = np.stack([g1.ravel(), g2.ravel(), np.full(g1.size, best[2])], 1)
    surface = np.log(np.mean((grid @ design.T - y) ** 2, axis=1)).reshape(g1.shape)
    contours = axis.contour(g1, g2, surface, levels=30)
    figure.colorbar(contours, ax=axis, shrink=0.8, label="log MSE")
    axis.plot(*path.T, ".-", color="red", ms=3, label="gradient descent")
    axis.set(
        title=f"{name} features\nlog MSE(w1, w2), b at its best",
        xlabel="w1",
        ylabel="w2",
        aspect="equal",
    )
    axis.legend(fontsize=8, loc="lower right")


# %% [markdown]
# The data: $y = 2x_1 + 0.3x_2$ plus noise, $x_1$ around 1 and $x_2$ on a 10x larger scale. The
# same 50 steps of gradient descent on the raw and on the standardised features: two contour
# plots and the loss curves side by side, a table, and the first verdict (the condition number
# must fall at least tenfold and the loss after 50 steps must be lower).


# %%
def elongated_surface(run, steps):
    """Part 1: y = 2 x1 + 0.3 x2 with x2 on a 10x larger scale; gradient descent before and after
    standardising."""
    rng = np.random.default_rng(run.seed)
    x = np.stack([rng.normal(1, 1, 200), rng.normal(10, 10, 200)], axis=1)
    y = x @ np.array([2.0, 0.3]) + rng.normal(0, 0.1, 200)
    figure = Figure(figsize=(15, 4.5))
    axes = figure.subplots(1, 3)
    rows, mse = [], f"MSE after {steps} steps"
    features = {"raw": x, "standardised": (x - x.mean(0)) / x.std(0)}
    for axis, (name, values) in zip(axes, features.items(), strict=False):
        design = np.c_[values, np.ones(len(y))]
        eigen, rate, path, losses = descend(design, y, steps)
        best = np.linalg.lstsq(design, y, rcond=None)[0]
        rows.append(
            {
                "features": name,
                "condition number": eigen[-1] / eigen[0],
                "step 1/lambda_max": rate,
                mse: losses[-1],
                "best MSE": np.mean((design @ best - y) ** 2),
            }
        )
        draw_valley(figure, axis, name, design, y, best, path)
        axes[2].semilogy(losses, label=f"{name} (step {rate:.2g})")
    axes[2].set(title="gradient descent from w = 0", xlabel="step", ylabel="MSE (log scale)")
    axes[2].legend()
    figure.tight_layout()
    run.figure("error_surface", figure)
    run.table("Part 1: feature scaling and the error surface", rows)
    raw, scaled = rows
    run.verdict(
        "Features on different scales make the error surface a long, thin valley; standardising "
        "them makes it round, so gradient descent can take a larger step and gets there faster",
        f"condition number of the MSE's Hessian: raw {raw['condition number']:.3g}, standardised "
        f"{scaled['condition number']:.3g}; after {steps} steps of the largest stable step: MSE "
        f"{raw[mse]:.3g} vs {scaled[mse]:.3g} (best possible {scaled['best MSE']:.3g})",
        bool(scaled["condition number"] < raw["condition number"] / 10 and scaled[mse] < raw[mse]),
    )


# %% [markdown]
# ## Part 2: batch normalization in a sigmoid network
#
# The MLP: three Dense layers of 128 units, each followed by a sigmoid, with the course's own
# `BatchNorm` (moving-average momentum 0.9) before each sigmoid, after it, or nowhere. Whatever
# feeds each sigmoid is named `pre_act_<i>`, so Part 3 can watch it.


# %%
def sigmoid_mlp(bn, depth=3, units=128):
    """Dense -> [BN] -> sigmoid -> [BN], `depth` times; the layer feeding each sigmoid is
    `pre_act_<i>`.
    """
    layers = [keras.Input((28, 28, 1)), keras.layers.Flatten()]
    for i in range(1, depth + 1):
        layers.append(
            keras.layers.Dense(units, name=f"dense_{i}" if bn == "before" else f"pre_act_{i}")
        )
        layers += [norms.BatchNorm(momentum=0.9, name=f"pre_act_{i}")] if bn == "before" else []
        layers.append(keras.layers.Activation("sigmoid", name=f"sigmoid_{i}"))
        layers += [norms.BatchNorm(momentum=0.9, name=f"bn_after_{i}")] if bn == "after" else []
    return keras.Sequential(layers + [keras.layers.Dense(10, name="logits")], name=f"mlp_bn_{bn}")


# %% [markdown]
# Part 6's small CNN: two 3x3 convolutions (16 and 32 filters), each followed by one of `NORMS`,
# ReLU and max pooling.


# %%
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


# %% [markdown]
# Training, the same for every model: SGD with momentum 0.9 on the cross-entropy, through `run.fit`
# (TensorBoard, checkpoints, resume); a diverging model is allowed and recorded as such.
# `epochs_to_reach` finds the first epoch whose validation accuracy reaches the target.


# %%
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


# %% [markdown]
# ## Parts 2–3: the grid
#
# Every seed × BN placement × batch size × learning rate (the lecture preset: 3 seeds, no BN or
# BN before the sigmoid, batch 128, $\eta$ = 0.01 and 0.1, 8 epochs on 5000 images) is one trial
# of the HParams experiment, with two metrics: the epochs to reach the target validation accuracy
# (80 % in the lecture preset) and the final validation accuracy (a diverged model counts as
# chance, 0.1). For the first seed, Part 3: the inputs of every sigmoid, on 512 validation images,
# logged as histograms every epoch; with BN, $\gamma$ and $\beta$ as well.


# %%
def hparams_grid(run, data, config):
    """Part 2-3: the grid, over seeds; the first seed's models log pre-activation histograms and,
    with BN, gamma and beta."""
    rows, models = [], {}
    probe, pre_activations = data[1][0][:512], [f"pre_act_{i}" for i in (1, 2, 3)]
    rates = [config.learning_rate * m for m in config.rate_multipliers]
    for seed, bn, batch_size, rate in itertools.product(
        run.seeds(config.seeds), config.placements, config.batch_sizes, rates
    ):
        name = f"bn-{bn}_batch-{batch_size}_lr-{rate:g}_seed{seed}"
        keras.utils.set_random_seed(seed)
        with run.scope():
            model = sigmoid_mlp(bn)
        folder = run.variant_dir(name)
        callbacks = []
        if seed == run.seeds(1)[0]:
            callbacks = [
                ActivationHistogramLogger(folder / "pre_activations", probe, pre_activations)
            ]
            callbacks += (
                [NormalizationParameterLogger(folder / "gamma_beta")] if bn != "none" else []
            )
        history = train(run, name, model, data, config.epochs, batch_size, rate, callbacks)
        accuracy = history.history["val_accuracy"]
        diverged = run.diverged(name) or not np.isfinite(accuracy[-1])
        metrics = {
            "epochs_to_target": epochs_to_reach(accuracy, config.target),
            "final_val_accuracy": 0.1 if diverged else accuracy[-1],  # diverged: chance
        }
        run.log_hparams(
            name,
            {"batch_norm": bn, "batch_size": batch_size, "learning_rate": rate, "seed": seed},
            metrics,
        )
        rows.append({"BN": bn, "batch": batch_size, "lr": rate, "seed": seed, **metrics})
        models[name] = model
    run.table(
        f"Part 2: epochs to {config.target:.0%} validation accuracy (nan: not reached) and final "
        "accuracy",
        rows,
    )
    return rows, models


# %% [markdown]
# ## Part 4: the student's question on $\gamma$ and $\beta$
#
# $\gamma$ and $\beta$ are weights like any other: they start at 1 and 0 and gradient descent
# learns them. The table shows their learnt means beside the batch's $\sigma$ and $\mu$. Then the
# check, judged: a copy of each BN layer with $\gamma = \sigma$ and $\beta = \mu$ of the batch
# should give back the input it received. If it does, normalizing takes nothing away: training
# can undo it, or keep any scale and shift in between.


# %%
def gamma_beta_demo(run, model, x):
    """Part 4: the trained gamma, beta; then gamma = sigma,
    beta = mu gives the layer's input back.
    """
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
    worst = max(row["max |BN(z) - z|, gamma=sigma, beta=mu"] for row in rows)
    scale = max(row["batch sigma mean"] for row in rows)
    run.verdict(
        "The student's question on γ and β: with γ = σ and β = μ of the batch, the layer gives "
        "its input back, so BN can undo itself if that is what training needs",
        f"largest |BN(z) - z| over {len(rows)} layers: {worst:.2g} (inputs' σ about {scale:.2g})",
        bool(worst < 1e-3 * max(scale, 1.0)),
    )


# %% [markdown]
# ## Part 5: testing one example at a time
#
# In testing ("inference") the examples may come one by one. The BN model is run on the test
# images with its moving averages (the first 32 also one at a time, to compare); with the
# statistics of a test batch of 256 (an example's output then depends on its batch-mates); with
# one example's own statistics (variance 0: every example gives $\beta$); and with moving
# averages never tracked ($\mu = 0$, $\sigma^2 = 1$). The verdict: the moving averages must beat
# both of the last two by more than 0.1 accuracy.


# %%
def predict(model, x, training):
    """The logits of ``model`` on ``x`` as NumPy, in training or inference mode."""
    return keras.ops.convert_to_numpy(model(x, training=training))


def single_example_demo(run, model, test):
    """Part 5: one example has no batch statistics; the moving averages stand in for them."""
    x, y = test

    def accuracy(logits):
        return float(np.mean(np.argmax(logits, -1) == y[: len(logits)]))

    # A copy, so that its training=True calls do not move the model's moving averages.
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    one_by_one = np.concatenate([predict(model, x[i : i + 1], False) for i in range(32)])
    batches = [predict(copy, x[i : i + 256], True) for i in range(0, len(x), 256)]
    batch_stats = np.concatenate(batches)
    single_stats = np.concatenate([predict(copy, x[i : i + 1], True) for i in range(32)])
    moved = predict(copy, np.concatenate([x[:1], x[-255:]]), True)[0] - batch_stats[0]
    for layer in (layer for layer in copy.layers if isinstance(layer, norms.BatchNorm)):
        layer.moving_mean.assign(0 * layer.moving_mean)
        layer.moving_variance.assign(0 * layer.moving_variance + 1)
    moving, unset = accuracy(predict(model, x, False)), accuracy(predict(copy, x, False))
    single = accuracy(single_stats)
    run.verdict(
        "Testing one example at a time needs the moving averages of μ and σ kept during training: "
        "without them (or with one example's own statistics) the predictions break",
        f"test accuracy with the moving averages {moving:.3f}; with μ = 0, σ² = 1 {unset:.3f}; "
        f"with one example's own statistics (first 32) {single:.3f}",
        bool(moving > max(unset, single) + 0.1),
    )
    gap = np.abs(one_by_one - predict(model, x[:32], False)).max()
    distinct = len(np.unique(single_stats.argmax(-1)))
    rows = [
        ("moving averages", len(x), moving, f"same outputs one by one (max diff {gap:.1e})"),
        (
            "test-batch statistics",
            256,
            accuracy(batch_stats),
            f"example 0's logits move by {np.abs(moved).max():.3f} when its batch-mates change",
        ),
        (
            "batch statistics of one example",
            1,
            single,
            f"variance 0, all give beta: {distinct} distinct prediction(s)",
        ),
        (
            "no moving averages (mu=0, sigma^2=1)",
            len(x),
            unset,
            "never tracked: wrong shift and scale",
        ),
    ]
    columns = ("inference uses", "batch", "test accuracy", "note")
    run.table(
        "Part 5: testing one example at a time", [dict(zip(columns, r, strict=True)) for r in rows]
    )


# %% [markdown]
# ## Part 6: the relatives of batch normalization
#
# The notes' "To learn more" list, trained: the small CNN with each normalization chosen in
# `norms` (none, BatchNorm and its relatives BatchRenorm, LayerNorm, GroupNorm, InstanceNorm,
# WeightNorm, SpectralNorm), each for `cnn_epochs` epochs at batch 64 and $\eta = 0.05$; a table of
# parameters, final validation accuracy and seconds per epoch. No verdict: it is a tour.


# %%
def compare_norms(run, data, config):
    rows = []
    for norm in config.norms:
        with run.scope():
            model = small_cnn(norm)
        started = time.perf_counter()
        history = train(run, f"cnn-{norm}", model, data, config.cnn_epochs, 64, 0.05)
        rows.append(
            {
                "norm": norm,
                "params": model.count_params(),
                "final val accuracy": history.history["val_accuracy"][-1],
                "seconds/epoch": (time.perf_counter() - started) / config.cnn_epochs,
            }
        )
    run.table("Part 6: every norm on one small CNN (Fashion-MNIST)", rows)


# %% [markdown]
# ## The verdicts on training
#
# From the grid at the first batch size, over the seeds: the epochs to the target accuracy
# without BN and with BN before the sigmoid (not reached counts as one more than all the epochs),
# and the final validation accuracy of both at the larger learning rate. Each comparison says
# `inconclusive` when the seeds' spread covers the difference.


# %%
def judge_grid(run, config, rows):
    """Lecture 8's claims on training, from the grid (the first batch size, over seeds)."""
    batch = config.batch_sizes[0]
    base, large = config.learning_rate, config.learning_rate * max(config.rate_multipliers)

    def values(bn, rate, key):
        found = [r[key] for r in rows if (r["BN"], r["batch"], r["lr"]) == (bn, batch, rate)]
        return [
            config.epochs + 1 if key == "epochs_to_target" and np.isnan(v) else v for v in found
        ]

    run.verdict(
        "Batch normalization reaches the target accuracy in fewer epochs",
        f"epochs to {config.target:.0%} validation accuracy at batch {batch}, lr {base:g} "
        f"(not reached counts as {config.epochs + 1}): without BN "
        f"{verdicts.spread(values('none', base, 'epochs_to_target'))}, with BN before the "
        f"sigmoid {verdicts.spread(values('before', base, 'epochs_to_target'))}",
        verdicts.exceeds(
            values("none", base, "epochs_to_target"), values("before", base, "epochs_to_target")
        ),
        seeds=config.seeds,
    )
    run.verdict(
        f"Batch normalization tolerates a larger learning rate ({large / base:g}x): it trains at "
        "least as well with it as without BN",
        f"final validation accuracy at lr {large:g}: without BN "
        f"{verdicts.spread(values('none', large, 'final_val_accuracy'))}, with BN "
        f"{verdicts.spread(values('before', large, 'final_val_accuracy'))}",
        verdicts.exceeds(
            values("before", large, "final_val_accuracy"),
            values("none", large, "final_val_accuracy"),
        ),
        seeds=config.seeds,
        reason="at this learning rate the sigmoid network without BN trained as well",
    )


# %% [markdown]
# ## The whole run
#
# `main` cuts Fashion-MNIST into training, validation and 5000 test images, then runs Part 1, the
# grid (Parts 2–3) and its verdicts, Part 4 and Part 5 on the first seed's BN-before model at the
# base learning rate, and Part 6 if `compare_norms` is on. `runner.Run` owns the run folder: run
# the cell again and a finished run is shown, not repeated; a run that was interrupted resumes.


# %%
def main(config):
    split = fashion_mnist.split(
        config.train_size,
        min(config.train_size // 2, 10000),
        test=5000,
        shape="channel",
        seed=config.seed,
    )
    data = (split.train, split.validation, split.test)
    with runner.Run(TUTORIAL, config) as run:
        elongated_surface(run, steps=50)
        rows, models = hparams_grid(run, data, config)
        judge_grid(run, config, rows)
        first = run.seeds(1)[0]
        bn_model = models[
            f"bn-before_batch-{config.batch_sizes[0]}_lr-{config.learning_rate:g}_seed{first}"
        ]
        gamma_beta_demo(run, bn_model, data[1][0][:1000])
        single_example_demo(run, bn_model, data[2])
        if config.compare_norms:
            compare_norms(run, data, config)


# %% [markdown]
# ## Run it
#
# What to expect: Part 1's figure and table first, then one line per trained MLP (its epochs,
# seconds and last metrics) and the grid's table, then the tables of Part 4 and Part 5 (and of
# Part 6 when it is on). The verdict table closes the run.

# %%
if __name__ == "__main__":
    runner.script(
        main, TUTORIAL, OPTIONS, __doc__, mode=mode, seed=seed, logdir=logdir, options=options
    )

# %% [markdown]
# ## Look at it in TensorBoard
#
# HParams: `batch_norm`, `batch_size`, `learning_rate` and `seed` against `epochs_to_target` and
# `final_val_accuracy`. Histograms (the first seed's models): `<variant>/pre_activations`,
# `activations/pre_act_1` to `pre_act_3`, the inputs of the three sigmoids epoch by epoch (compare
# a `bn-none` model with a `bn-before` one); `<variant>/gamma_beta`, `gamma/pre_act_<i>` and
# `beta/pre_act_<i>`. Scalars: `epoch_accuracy` of every model, `gamma/<layer>/mean` and
# `beta/<layer>/mean` over training. Images: `error_surface` (Part 1). Text: the verdicts first,
# then the tables. (The cell starts TensorBoard inside the notebook; from a terminal,
# `mlcourse board l08-batch-norm`.)

# %% tags=["skip-execution"]
# %load_ext tensorboard
# %tensorboard --logdir {runner.logdir_of(TUTORIAL, logdir)}
