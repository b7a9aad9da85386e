"""Lecture 12 / homework 4: Conformer vs Transformer encoder vs the lecture 10-11 taggers on real tags.

ML2021 L12 (Transformer encoder) and homework 4 (the hint: use a Conformer, which has both a CNN and
self-attention). Every token of the Turkish Web Treebank gets a universal POS tag, with the same data,
features and seeded 90/10 sentence split as the real part of ``l10-self-attention``. Compared: a
window MLP (±2 tokens), a BiLSTM, one multi-head self-attention layer, a stack of Transformer encoder
blocks and a stack of Conformer blocks (self-attention plus a depthwise convolution over ±2 tokens),
all with the same embeddings, width and output head, next to the most-frequent-tag baseline: token
accuracy (all tokens, and tokens whose dependency head is 5 or more words away), parameters and
training seconds in one table.

Full mode (6 minutes measured on 2 shared CPU cores): width 64, 2 blocks per stack, 12 epochs per tagger.
Quick mode: 100 sentences, width 16, 1 epoch, three taggers. TensorBoard: scalars for every tagger,
Images ``attention/sentence_0`` (the first Transformer block's self-attention on a test sentence),
Text: the result table.
"""

from mlcourse import runner

TUTORIAL = {
    "id": "l12-conformer-tagging",
    "lecture": "12",
    "title": "Conformer vs Transformer encoder vs earlier taggers",
}

TAGGERS = ["window:2", "birnn", "multi_head", "transformer", "conformer"]
QUICK = ["window:2", "transformer", "conformer"]
FEATURES = ("word", "suffix", "shape")


def train_and_score(run, args, spec, train, test):
    """One tagger: build, train through the runner, score on the held-out sentences."""
    import keras

    from mlcourse.callbacks.attention_maps import AttentionMaps
    from mlcourse.models.taggers import predict_tags, tagger, token_accuracy

    kind, _, window = spec.partition(":")
    with run.scope():
        model = tagger(
            kind,
            len(train.vocabulary),
            len(train.tags),
            train.x.shape[1],
            train.x.shape[2],
            width=args.width,
            window=int(window or 2),
            num_heads=4,
            num_layers=args.layers,
            dropout=args.dropout,
        )
        model.compile(
            keras.optimizers.Adam(args.learning_rate),
            "sparse_categorical_crossentropy",
            weighted_metrics=["accuracy"],
            run_eagerly=run.quick,
        )  # quick: tracing costs more than 3 steps
    callbacks = []
    if kind == "transformer":  # its first block's self-attention on the first test sentence
        callbacks.append(
            AttentionMaps(
                run.variant_dir(kind),
                "encoder_1",
                test.x[:1],
                [test.words(0)],
                mask=test.mask[:1],
                every=max(1, args.epochs // 3),
            )
        )
    variant = spec.replace(":", "")
    run.fit(
        variant,
        model,
        train.x,
        train.y,
        sample_weight=train.mask,
        batch_size=32,
        epochs=args.epochs,
        validation_data=(test.x, test.y, test.mask),
        callbacks=callbacks,
    )
    predicted = predict_tags(model, test)
    return {
        "tagger": spec,
        "token accuracy": token_accuracy(predicted, test),
        "head >= 5 words away": token_accuracy(predicted, test, test.distance >= 5),
        "parameters": model.count_params(),
        "train s": run.state["variants"][variant]["seconds"],
    }


def main(argv=None):
    parser = runner.tutorial_parser(TUTORIAL, __doc__)
    parser.add_argument(
        "--epochs",
        type=runner.positive_int,
        default=None,
        help="epochs per tagger (default 12; quick 1)",
    )
    parser.add_argument(
        "--width",
        type=runner.positive_int,
        default=None,
        help="embedding / model width (64; quick 16)",
    )
    parser.add_argument(
        "--layers",
        type=runner.positive_int,
        default=2,
        help="Transformer / Conformer blocks (default 2)",
    )
    parser.add_argument("--learning-rate", type=runner.positive_float, default=3e-3)
    parser.add_argument(
        "--dropout", type=float, default=0.3, help="dropout (default 0.3, as in l10-self-attention)"
    )
    args = parser.parse_args(argv)
    args.epochs = args.epochs or (1 if args.quick else 12)
    args.width = args.width or (16 if args.quick else 64)
    with runner.Run(TUTORIAL, args) as run:
        from mlcourse.data import tagged_text

        sentences = tagged_text.load_turkish("web")
        data = tagged_text.split_and_encode(
            sentences[:100] if run.quick else sentences, FEATURES, seed=args.seed
        )
        train, test = (
            data.train,
            data.test,
        )  # the same split and encoding as l10-self-attention's real part
        rows = [{"tagger": "most frequent tag (baseline)", "token accuracy": data.baseline}]
        rows += [
            train_and_score(run, args, spec, train, test)
            for spec in (QUICK if run.quick else TAGGERS)
        ]
        run.table(
            f"Turkish web treebank: held-out UPOS accuracy ({len(test.x)} test rows, "
            f"{int(test.mask.sum())} tokens)",
            rows,
        )


if __name__ == "__main__":
    runner.cli_main(main)
