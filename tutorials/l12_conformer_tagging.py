"""Lecture 12 / homework 4: Conformer vs Transformer encoder vs the lecture 10-11 taggers on real
tags.

ML2021 L12 (Transformer encoder) and homework 4 (the hint: use a Conformer, which has both a CNN and
self-attention). Every token of the Turkish Web Treebank gets a universal POS tag, with the same
data, features and seeded 90/10 sentence split as the real part of ``l10-self-attention``. Compared:
a window MLP (±2 tokens), a BiLSTM, one multi-head self-attention layer, a stack of Transformer
encoder blocks and a stack of Conformer blocks (self-attention plus a depthwise convolution over ±2
tokens), all with the same embeddings, width and output head, next to the most-frequent-tag
baseline: token accuracy (all tokens, and tokens whose dependency head is 5 or more words away),
    parameters and
training seconds in one table.

Full mode (6 minutes measured on 2 shared CPU cores): width 64, 2 blocks per stack, 12 epochs per
tagger. Lecture run: the Transformer and the Conformer stacks (width 32) over three seeds, the
homework's claim judged from their accuracies. Smoke: 100 sentences, width 16, 1 epoch. TensorBoard:
scalars for every tagger, Images ``attention/sentence_0`` (the first Transformer block's
self-attention on a test sentence),
Text: the result table.
"""

# %% [markdown]
# **Lecture 12**, "Transformer (上)" (Transformer, part 1), the slides on the Transformer's encoder
# (a block: multi-head self-attention and a feed-forward network, each with a residual connection
# and layer normalisation), with homework 4's hint: use a Conformer.
#
# A Transformer encoder block lets every token look at the whole sentence; a Conformer block (Gulati
# et al. 2020) adds a convolution module that looks at the neighbours only, between two half-step
# feed-forward modules (each module reads a layer-normalised input):
#
# $$x \leftarrow x + \tfrac12 \mathrm{FFN}(x), \quad x \leftarrow x + \mathrm{MHSA}(x), \quad
# x \leftarrow x + \mathrm{Conv}(x), \quad x \leftarrow x + \tfrac12 \mathrm{FFN}'(x), \quad
# y = \mathrm{LayerNorm}(x).$$
#
# **The question from the course notes:** "CNN or self-attention for homework 4? The teacher hints
# at a Conformer (Q: what is that?), which uses both a CNN and self-attention." (The notes for
# lecture 12 itself stop at its title.) What a Conformer is, is written above; whether its
# convolution helps is what this notebook measures.
#
# **What this notebook shows.** Every token of the Turkish Web Treebank gets a universal POS tag,
# with the data, features and split of `l10-self-attention`. Taggers of the same width and output
# head are compared: a window MLP (±2 tokens), a BiLSTM, one multi-head self-attention layer, a
# stack of Transformer encoder blocks and a stack of Conformer blocks (a depthwise convolution over
# ±2 tokens), next to the most-frequent-tag baseline; the lecture run trains only the two stacks,
# over three seeds. The table gives the accuracy on all tokens and on tokens whose dependency head
# is 5 or more words away. It judges homework 4's hint: a Conformer tags better than a Transformer
# encoder of the same width and depth.

# %% [markdown]
# Away from a machine set up with `make setup` (a laptop, Colab), the next cell fetches the data
# sets that are missing, checksummed; where they are present it only checks them. (In the script
# this line is a comment.)

# %%
# %run -m mlcourse data prepare --download

# %%
import keras

from mlcourse import runner, verdicts
from mlcourse.callbacks.attention_maps import AttentionMaps
from mlcourse.data import tagged_text
from mlcourse.models.taggers import predict_tags, tagger, token_accuracy

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
# (`mlcourse run l12-conformer-tagging --help` lists them too).

# %%
TUTORIAL = {
    "id": "l12-conformer-tagging",
    "lecture": "12",
    "title": "Conformer vs Transformer encoder vs earlier taggers",
}
OPTIONS = {
    "taggers": {
        "kind": "names",
        "choices": ["window:2", "birnn", "multi_head", "transformer", "conformer"],
        "smoke": ["window:2", "transformer", "conformer"],
        "lecture": ["transformer", "conformer"],
        "full": ["window:2", "birnn", "multi_head", "transformer", "conformer"],
        "help": "taggers compared (transformer and conformer are judged)",
    },
    "sentences": {
        "kind": "count",
        "smoke": 100,
        "default": 100000,
        "help": "Turkish Web Treebank sentences used (at most all, 2,541)",
    },
    "epochs": {"kind": "count", "smoke": 1, "lecture": 5, "full": 12, "help": "epochs per tagger"},
    "units": {"kind": "count", "smoke": 16, "lecture": 32, "full": 64, "help": "model width"},
    "layers": {"kind": "count", "default": 2, "help": "Transformer / Conformer blocks"},
    "learning_rate": {"kind": "positive", "default": 3e-3, "help": "Adam's step size"},
    "dropout": {"kind": "rate", "default": 0.3, "help": "dropout (as in l10-self-attention)"},
    "seeds": {"kind": "count", "smoke": 1, "lecture": 3, "full": 1, "help": "seeds"},
}
FEATURES = ("word", "suffix", "shape")


# %% [markdown]
# ## One tagger: build, train, score
#
# `train_and_score` builds one tagger (`mlcourse.models.taggers.tagger`: the same embeddings of the
# word, suffix and shape features, the same width and output head; only the layer that lets a token
# see the others differs), trains it with Adam through `run.fit` (padding tokens weigh 0 in the loss
# and the accuracy) and scores it on the held-out sentences: token accuracy on all tokens and on the
# tokens whose head is 5 or more words away, where a ±2 window cannot see the head. The first seed's
# Transformer also draws its first block's attention on one test sentence.


# %%
def train_and_score(run, config, spec, train, test, seed):
    """One tagger: build, train through the runner, score on the held-out sentences."""
    kind, _, window = spec.partition(":")
    keras.utils.set_random_seed(seed)
    with run.scope():
        model = tagger(
            kind,
            len(train.vocabulary),
            len(train.tags),
            train.x.shape[1],
            train.x.shape[2],
            units=config.units,
            window=int(window or 2),
            num_heads=4,
            num_layers=config.layers,
            dropout=config.dropout,
        )
        model.compile(
            keras.optimizers.Adam(config.learning_rate),
            "sparse_categorical_crossentropy",
            weighted_metrics=["accuracy"],
            run_eagerly=run.smoke,  # a smoke run's few steps: tracing costs more than running
        )
    variant = f"{spec.replace(':', '')}-seed{seed}"
    callbacks = []
    if kind == "transformer" and seed == run.seeds(1)[0]:  # its first block on one sentence
        callbacks.append(
            AttentionMaps(
                run.variant_dir(variant),
                "encoder_1",
                test.x[:1],
                [test.words(0)],
                mask=test.mask[:1],
                every=max(1, config.epochs // 3),
            )
        )
    run.fit(
        variant,
        model,
        train.x,
        train.y,
        sample_weight=train.mask,
        batch_size=32,
        epochs=config.epochs,
        validation_data=(test.x, test.y, test.mask),
        callbacks=callbacks,
    )
    predicted = predict_tags(model, test)
    return {
        "tagger": spec,
        "seed": seed,
        "token accuracy": token_accuracy(predicted, test),
        "head >= 5 words away": token_accuracy(predicted, test, test.distance >= 5),
        "parameters": model.count_params(),
        "train s": run.seconds(variant),
    }


# %% [markdown]
# ## The whole run
#
# `main` loads the sentences, splits and encodes them as `l10-self-attention` does, and inside
# `runner.Run` trains every tagger for every seed, then prints one table with the baseline first.
# When both stacks were trained, the verdict compares their token accuracies over the seeds. Run the
# cell again and a finished run is shown, not repeated; a run that was interrupted resumes.


# %%
def main(config):
    sentences = tagged_text.load_turkish("web")[: config.sentences]
    data = tagged_text.split_and_encode(sentences, FEATURES, seed=config.seed)
    train, test = data.train, data.test  # the same split and encoding as l10-self-attention
    with runner.Run(TUTORIAL, config) as run:
        rows = [{"tagger": "most frequent tag (baseline)", "token accuracy": data.baseline}]
        for seed in run.seeds(config.seeds):
            rows += [
                train_and_score(run, config, spec, train, test, seed) for spec in config.taggers
            ]
        run.table(
            f"Turkish web treebank: held-out UPOS accuracy ({len(test.x)} test rows, "
            f"{int(test.mask.sum())} tokens)",
            rows,
        )

        def accuracy(spec):
            return [row["token accuracy"] for row in rows if row["tagger"] == spec]

        if {"transformer", "conformer"} <= set(config.taggers):
            run.verdict(
                "Homework 4's hint: a Conformer (self-attention plus a convolution over the "
                "neighbours) tags better than a Transformer encoder of the same width and depth",
                f"token accuracy: Conformer {verdicts.spread(accuracy('conformer'))}, Transformer "
                f"{verdicts.spread(accuracy('transformer'))}",
                verdicts.exceeds(accuracy("conformer"), accuracy("transformer")),
                seeds=config.seeds,
                reason="on 2,300 training sentences the two are within the seed-to-seed spread",
            )


# %% [markdown]
# ## Run it
#
# What to expect: one training log per tagger and seed; the lecture run trains the Transformer and
# the Conformer stacks (width 32, 2 blocks, 5 epochs) with three seeds, `--full` all five taggers
# (width 64, 12 epochs) with one seed. Then the accuracy table, and the verdict table closes the
# run. The two stacks may come out within the seed-to-seed spread; the verdict then says so.

# %%
if __name__ == "__main__":
    runner.script(
        main, TUTORIAL, OPTIONS, __doc__, mode=mode, seed=seed, logdir=logdir, options=options
    )

# %% [markdown]
# ## Look at it in TensorBoard
#
# Scalars: `epoch_loss` and `epoch_accuracy` of every tagger and seed (`transformer-seed0`,
# `conformer-seed0` ...), training and validation (the held-out sentences). Images:
# `attention/sentence_0`, the first Transformer block's self-attention on a test sentence (which
# word looks at which), a few snapshots during training. Text: the verdict and the result table.
# (The cell starts TensorBoard inside the notebook; from a terminal,
# `mlcourse board l12-conformer-tagging`.)

# %% tags=["skip-execution"]
# %load_ext tensorboard
# %tensorboard --logdir {runner.logdir_of(TUTORIAL, logdir)}
