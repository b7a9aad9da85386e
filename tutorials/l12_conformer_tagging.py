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

import keras

from mlcourse import runner, verdicts
from mlcourse.callbacks.attention_maps import AttentionMaps
from mlcourse.data import tagged_text
from mlcourse.models.taggers import predict_tags, tagger, token_accuracy

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


if __name__ == "__main__":
    runner.script(main, TUTORIAL, OPTIONS, __doc__)
