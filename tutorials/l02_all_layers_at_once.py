"""Lecture 2, the student's question 2: is each layer fitted to the loss on its own, or are all
updated at once?

Answer, measured: one backward pass (backpropagation) gives the gradient of the ONE loss with
respect to every layer's weights, and one optimizer update changes every layer at once. The
tutorial prints, per layer, the gradient norm from a single backward pass and how far one update
moved that layer's weights. Then it contrasts end-to-end training with greedy layer-wise training
(train layer 1 with a temporary read-out, freeze it, add layer 2, ...), with the same number of
epochs in total, on the lecture's daily page views.

TensorBoard: Scalars (gradient_norm/<layer> every epoch for the end-to-end model; epoch_loss of
both methods), Text (the tables).
"""

# %% [markdown]
# **Lecture 2**, "預測本頻道觀看人數 (下) - 深度學習基本概念簡介" (predicting this channel's
# views, part 2: basic concepts of deep learning), its last slides (ReLU units stacked into hidden
# layers, "deep = many hidden layers") and the backpropagation video the notes give as reading.
#
# A deep network is one function of all its layers' parameters $\theta$ (every layer's $W$ and
# $b$, and the read-out's), and the loss $L(\theta)$ is computed only at its output. Gradient
# descent updates all of them together,
#
# $$\theta \leftarrow \theta - \eta\,\nabla_\theta L(\theta), \qquad
# \nabla_\theta L = \left(\frac{\partial L}{\partial \theta_1}, \dots,
# \frac{\partial L}{\partial \theta_D}\right),$$
#
# and backpropagation computes every layer's part $\partial L / \partial \theta_l$ in one backward
# pass (the chain rule, from the output back to layer 1).
#
# **The question from the course notes:** is each layer fitted on its own, taking that layer's
# output $a$ and computing $L(a, y)$ to decide its $(b, w)$ layer by layer? Or does every update
# change all layers' $(b, w)$ at the same time?
#
# **What this notebook shows.** Part 1 builds the lecture's network (3 hidden ReLU layers of 32
# units and a linear read-out, on 28 days of page views), takes one backward pass and one plain SGD
# step on 64 days, and prints per layer the gradient norm and how far the step moved the weights.
# It judges the claim that one update changes every layer at once, each by its share of the one
# loss's gradient (layers are not fitted one by one). Part 2 tries the student's alternative:
# greedy layer-wise training against end-to-end training, the same epochs in total, on 3 seeds;
# it prints both validation MAEs and the answer (a comparison, no verdict).

# %% [markdown]
# Away from a machine set up with `make setup` (a laptop, Colab), the next cell fetches the data
# sets that are missing, checksummed; where they are present it only checks them. (In the script
# this line is a comment.)

# %%
# %run -m mlcourse data prepare --download

# %%
import keras
import numpy as np

from mlcourse import runner, verdicts
from mlcourse.callbacks import GradientNormLogger, layer_gradient_norms
from mlcourse.data import series

# %% [markdown]
# The run's settings. A script reads its command-line flags instead (`--smoke`, `--full`,
# `--seed`, `--logdir`, `--seeds 1` ...); here, change them and run the notebook again.
# `smoke` is a plumbing check whose numbers mean nothing; `lecture` shows the lecture's effect in a
# few minutes on 2 CPU cores; `full` gives the headline figures.

# %% tags=["parameters"]
mode = "lecture"  # "smoke" (--smoke), "lecture" (no flag) or "full" (--full)
seed = 0  # --seed
logdir = None  # --logdir; None: $MLCOURSE_LOGDIR, else the repository's logs/
options = {}  # this tutorial's options (listed below), e.g. {"seeds": 1} for --seeds 1

# %% [markdown]
# The tutorial's metadata and options, each with its value in the three modes
# (`mlcourse run l02-all-layers-at-once --help` lists them too).

# %%
TUTORIAL = {
    "id": "l02-all-layers-at-once",
    "lecture": "2",
    "title": "Question 2: one backward pass updates every layer",
}
OPTIONS = {
    "depth": {"kind": "count", "default": 3, "help": "hidden layers"},
    "units": {"kind": "count", "default": 32, "help": "units per hidden layer"},
    "k": {"kind": "count", "default": 28, "help": "days of history as features"},
    "epochs_per_stage": {
        "kind": "count",
        "smoke": 3,
        "lecture": 25,
        "full": 100,
        "help": "epochs per greedy stage (end-to-end: this times the depth)",
    },
    "batch_size": {"kind": "count", "default": 32, "help": "days per update"},
    "learning_rate": {"kind": "positive", "default": 3e-3, "help": "step size"},
    "seeds": {"kind": "count", "smoke": 1, "lecture": 3, "full": 3, "help": "initialisations"},
}


# %% [markdown]
# ## The network and what one update does
#
# `network` is the lecture's deep network: `depth` Dense ReLU layers (`hidden_1`, `hidden_2`, ...)
# and a linear `readout`. `one_update_table` takes 64 training days, gets every layer's gradient
# norm $\lVert\partial L/\partial \theta_l\rVert$ from one backward pass (`layer_gradient_norms`),
# makes one `train_on_batch` step and measures how far each layer's weights moved. For plain SGD
# that distance is the learning rate times the gradient norm: the last two columns should agree.
# `mae` scores a model in page views (the scaler undoes the normalisation).


# %%
def network(config, k):
    """``depth`` ReLU layers of ``units`` units and a linear read-out:
    the lecture's deep network.
    """
    hidden = [
        keras.layers.Dense(config.units, activation="relu", name=f"hidden_{i + 1}")
        for i in range(config.depth)
    ]
    return keras.Sequential([keras.Input((k,)), *hidden, keras.layers.Dense(1, name="readout")])


def one_update_table(model, data, learning_rate):
    """Per layer: the gradient norm from one backward pass, and how far one SGD step moved it."""
    x, y = data.x_train[:64], data.y_train[:64, None]
    norms = layer_gradient_norms(model, x, y)
    before = {layer.name: [w.copy() for w in layer.get_weights()] for layer in model.layers}
    model.train_on_batch(x, y)
    rows = []
    for layer in model.layers:
        after = layer.get_weights()
        moved = np.sqrt(
            sum(np.sum((a - b) ** 2) for a, b in zip(after, before[layer.name], strict=True))
        )
        norm = norms.get(layer.name, 0.0)
        rows.append(
            {
                "layer": layer.name,
                "gradient norm": norm,
                "weight change": float(moved),
                "lr x gradient norm": learning_rate * norm,
            }
        )
    return rows


def mae(model, data, split):
    """Mean absolute error in page views on one split."""
    x, y = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
    prediction = data.scaler.inverse(model.predict(x, verbose=0)[:, 0])
    return float(np.mean(np.abs(prediction - data.scaler.inverse(y))))


# %% [markdown]
# ## Part 2: all layers at once, or one layer at a time
#
# `end_to_end` trains every layer together on the one MAE loss with Adam for `depth` x
# `epochs_per_stage` epochs (3 x 25 = 75 in the lecture preset); `GradientNormLogger` logs every
# layer's gradient norm each epoch on a fixed batch. `greedy_layerwise` is the "layer by layer"
# idea made concrete: stage $s$ trains a new hidden layer $s$ with a fresh read-out on top of the
# frozen layers below, `epochs_per_stage` epochs a stage. Both get the same epochs in total.


# %%
def end_to_end(run, data, config, seed):
    """All layers trained together on the one loss, for depth x epochs_per_stage epochs."""
    with run.scope():
        model = network(config, data.k)
        model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss="mae")
    variant = f"end-to-end-seed{seed}"
    probe = GradientNormLogger(
        run.variant_dir(variant) / "train", data.x_train[:64], data.y_train[:64, None]
    )
    run.fit(
        variant,
        model,
        data.x_train,
        data.y_train,
        epochs=config.epochs_per_stage * config.depth,
        batch_size=config.batch_size,
        validation_data=(data.x_val, data.y_val),
        callbacks=[probe],
    )
    return model


def greedy_layerwise(run, data, config, seed):
    """Stage s trains hidden layer s and a fresh read-out; the layers below it are frozen."""
    trained = []
    for stage in range(1, config.depth + 1):
        for layer in trained:
            layer.trainable = False
        new_layer = keras.layers.Dense(config.units, activation="relu", name=f"hidden_{stage}")
        with run.scope():
            layers = [
                keras.Input((data.k,)),
                *trained,
                new_layer,
                keras.layers.Dense(1, name="readout"),
            ]
            model = keras.Sequential(layers)
            model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss="mae")
        run.fit(
            f"greedy-seed{seed}-stage-{stage}",
            model,
            data.x_train,
            data.y_train,
            epochs=config.epochs_per_stage,
            batch_size=config.batch_size,
            validation_data=(data.x_val, data.y_val),
        )
        trained.append(new_layer)
    return model


# %% [markdown]
# ## The whole run
#
# `main` cuts the daily page views (`hyndsight`) into windows of `k` days. Part 1: a network with
# plain SGD, the one-update table and the verdict (every layer got a non-zero gradient and every
# layer moved). Part 2: for every seed, end-to-end and greedy layer-wise training, each scored by
# its validation MAE in page views; then the table and the answer. `runner.Run` owns the run
# folder: run the cell again and a finished run is shown, not repeated; a run that was interrupted
# resumes.


# %%
def main(config):
    data = series.window_split(series.load_series("hyndsight").values, config.k)
    with runner.Run(TUTORIAL, config) as run:
        # 1. One backward pass, one update: which layers move?
        with run.scope():
            model = network(config, config.k)
            model.compile(optimizer=keras.optimizers.SGD(config.learning_rate), loss="mae")
        rows = one_update_table(model, data, config.learning_rate)
        run.table("One backward pass, one update: every layer", rows)
        with_gradient = sum(row["gradient norm"] > 0 for row in rows)
        moved = sum(row["weight change"] > 0 for row in rows)
        run.verdict(
            "One update changes every layer at once, each by its share of the one loss's gradient "
            "(layers are not fitted one by one)",
            f"one backward pass gave {with_gradient} of {len(rows)} layers a non-zero gradient; "
            f"one SGD step moved {moved} of {len(rows)} layers",
            with_gradient == moved == len(rows),
        )

        # 2. All at once vs one layer at a time, the same epochs in total.
        rows, joint, greedy = [], [], []
        for seed in run.seeds(config.seeds):
            keras.utils.set_random_seed(seed)
            joint.append(mae(end_to_end(run, data, config, seed), data, "val"))
            greedy.append(mae(greedy_layerwise(run, data, config, seed), data, "val"))
            rows += [
                {"method": "end-to-end (all layers at once)", "seed": seed, "val MAE": joint[-1]},
                {"method": "greedy layer-wise", "seed": seed, "val MAE": greedy[-1]},
            ]
        epochs = config.epochs_per_stage * config.depth
        run.table(
            f"End-to-end vs greedy layer-wise, {epochs} epochs each (MAE in page views)", rows
        )
        run.text(
            "answer",
            f"End-to-end validation MAE {verdicts.spread(joint)}, greedy layer-wise "
            f"{verdicts.spread(greedy)} over {len(joint)} seed(s). Backpropagation gives every "
            "layer its gradient of the one loss in one backward pass, so nothing forces training "
            "layer by layer; Scalars > gradient_norm shows every layer's gradient at every epoch.",
        )


# %% [markdown]
# ## Run it
#
# What to expect: the one-update table first, one row per layer (`hidden_1` to `hidden_3`,
# `readout`), every layer with a non-zero gradient norm and weight change. Then the training of
# both methods for each seed, the end-to-end vs greedy table and the answer. The verdict table
# closes the run.

# %%
if __name__ == "__main__":
    runner.script(
        main, TUTORIAL, OPTIONS, __doc__, mode=mode, seed=seed, logdir=logdir, options=options
    )

# %% [markdown]
# ## Look at it in TensorBoard
#
# Scalars: `gradient_norm/hidden_1` ... `gradient_norm/readout` every epoch for each end-to-end
# model (`end-to-end-seed<seed>`): every layer gets its gradient at every epoch, all from the one
# loss. `epoch_loss` of the end-to-end models and of each greedy stage
# (`greedy-seed<seed>-stage-<s>`), for training and validation. Text: the verdict, the two tables
# and the answer.
# (The cell starts TensorBoard inside the notebook; from a terminal,
# `mlcourse board l02-all-layers-at-once`.)

# %% tags=["skip-execution"]
# %load_ext tensorboard
# %tensorboard --logdir {runner.logdir_of(TUTORIAL, logdir)}
