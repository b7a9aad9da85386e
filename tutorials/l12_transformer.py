"""Lecture 12: an encoder–decoder Transformer turns Turkish words into their lemmas, letter by letter.

ML2021 L12, Transformer. The Turkish treebanks' FORM and LEMMA columns give ~18,000 word types
(``kuyruğa`` → ``kuyruk``, ``olmuştu`` → ``ol``); a tenth of the types is held out, so every test word
is unseen. The encoder (``TransformerEncoderBlock``s) reads the word's characters; the decoder
(``TransformerDecoderBlock``s: masked self-attention, then cross-attention to the encoder) writes the
lemma. Training uses teacher forcing (the decoder sees the gold lemma shifted right), testing greedy
decoding (it sees its own previous outputs). Exact match is compared with three baselines fitted on
the training words: copy the word, strip the longest known suffix, and the most frequent edit rule of
the longest known word ending. Also: a check that the decoder never looks ahead (changing a later
target letter leaves earlier outputs unchanged) and a table of examples.

Full mode (16 minutes measured on 2 busy shared CPU cores): words up to 16 letters, 2 + 2 blocks of
width 64, 24 epochs in batches of 128 words, XLA-compiled, Adam with warm-up and cosine decay (L06).
Quick mode: 400 words, 1 epoch, one block each of width 16, run eagerly.
TensorBoard: scalars (loss, next-letter accuracy under teacher forcing, learning rate), Images
``cross_attention/word_N`` (rows: the letters the decoder wrote, columns: the input letters, one panel
per head; a few snapshots during training), Text: the result and example tables.
"""

import numpy as np

from mlcourse import runner

TUTORIAL = {
    "id": "l12-transformer",
    "lecture": "12",
    "title": "Transformer encoder-decoder: Turkish word to lemma",
}

MAX_LETTERS = 16  # words up to 16 letters (99.7 % of the types), lemmas up to 15 (+ </s>)


def load_data(run, args):
    """Word-type pairs, split so that every test word is unseen in training."""
    from mlcourse.data import tagged_text

    pairs = [
        (w, lemma)
        for w, lemma in tagged_text.load_lemma_pairs("both")
        if len(w) <= MAX_LETTERS and len(lemma) < MAX_LETTERS
    ]
    if run.quick:
        pairs = [
            pairs[i]
            for i in sorted(np.random.default_rng(args.seed).choice(len(pairs), 400, replace=False))
        ]
    return tagged_text.split(pairs, held_out=0.1, seed=args.seed)


def baselines(train, words):
    """Predictions of the counting baselines, fitted on the training pairs only."""
    from mlcourse.models.lemma_baselines import EndingRuleLemmatizer, LongestSuffixStripper

    return {
        "copy the word": list(words),
        "strip the longest known suffix": LongestSuffixStripper().fit(train).predict(words),
        "most frequent rule of the longest known ending": EndingRuleLemmatizer()
        .fit(train)
        .predict(words),
    }


def causal_check(run, model, source, decoder_in, seed):
    """The decoder's mask, measured: change target letters from position k on, compare the outputs."""
    import keras

    rng = np.random.default_rng(seed)
    rows = []
    before = keras.ops.convert_to_numpy(model([source, decoder_in], training=False))
    for k in (1, 4, 8):
        changed = decoder_in.copy()
        changed[:, k:] = rng.integers(4, int(decoder_in.max()) + 1, size=changed[:, k:].shape)
        after = keras.ops.convert_to_numpy(model([source, changed], training=False))
        rows.append(
            {
                "target letters changed": f"positions >= {k}",
                "max output change before k": float(np.abs(after[:, :k] - before[:, :k]).max()),
                "max output change from k on": float(np.abs(after[:, k:] - before[:, k:]).max()),
            }
        )
    run.table("Masked self-attention: a future target letter does not change earlier outputs", rows)


def examples(run, words, gold, predicted, rules, count=4):
    """Words the Transformer gets and the rules miss, the other way round, and both miss."""
    groups = {
        "transformer only": lambda i: predicted[i] == gold[i] != rules[i],
        "rules only": lambda i: rules[i] == gold[i] != predicted[i],
        "neither": lambda i: gold[i] not in (predicted[i], rules[i]),
    }
    rows = []
    for name, test in groups.items():
        rows += [
            {
                "word": words[i],
                "gold lemma": gold[i],
                "transformer": predicted[i],
                "ending rules": rules[i],
                "right": name,
            }
            for i in [i for i in range(len(words)) if test(i)][:count]
        ]
    run.table("Examples: unseen words, gold lemma and predictions", rows)


def main(argv=None):
    parser = runner.tutorial_parser(TUTORIAL, __doc__)
    parser.add_argument(
        "--epochs", type=runner.positive_int, default=None, help="epochs (default 24; quick 1)"
    )
    parser.add_argument(
        "--model-dim", type=runner.positive_int, default=None, help="width (default 64; quick 16)"
    )
    parser.add_argument(
        "--layers",
        type=runner.positive_int,
        default=None,
        help="encoder and decoder blocks (2; quick 1)",
    )
    parser.add_argument(
        "--learning-rate", type=runner.positive_float, default=2e-3, help="peak learning rate"
    )
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument(
        "--no-jit", action="store_true", help="do not XLA-compile (full mode compiles)"
    )
    args = parser.parse_args(argv)
    args.epochs = args.epochs or (1 if args.quick else 24)
    args.model_dim = args.model_dim or (16 if args.quick else 64)
    args.layers = args.layers or (1 if args.quick else 2)
    with runner.Run(TUTORIAL, args) as run:
        import keras

        from mlcourse.callbacks.cross_attention_maps import CrossAttentionMaps
        from mlcourse.models import seq2seq
        from mlcourse.schedules import WarmupThenDecay

        train, test = load_data(run, args)
        words, gold = [w for w, _ in test], [lemma for _, lemma in test]
        vocabulary = seq2seq.char_vocabulary([c for pair in train for c in pair])
        x_train, in_train, out_train = seq2seq.seq2seq_arrays(
            train, vocabulary, MAX_LETTERS, MAX_LETTERS
        )
        x_test, in_test, out_test = seq2seq.seq2seq_arrays(
            test, vocabulary, MAX_LETTERS, MAX_LETTERS
        )
        steps = args.epochs * -(
            -len(train) // run.global_batch(128)
        )  # run.fit takes 128 per replica
        with run.scope():
            model = seq2seq.transformer_seq2seq(
                len(vocabulary),
                MAX_LETTERS,
                MAX_LETTERS,
                model_dim=args.model_dim,
                num_heads=4,
                ff_dim=2 * args.model_dim,
                num_layers=args.layers,
                dropout=args.dropout,
            )
            warmup = min(300, steps // 10)
            schedule = WarmupThenDecay(
                args.learning_rate, warmup, max(1, steps - warmup)
            )  # ML2021 L06: warm-up
            model.compile(
                keras.optimizers.Adam(schedule),
                "sparse_categorical_crossentropy",
                weighted_metrics=["accuracy"],
                jit_compile=not (run.quick or args.no_jit),
                run_eagerly=run.quick,
            )  # quick: tracing > running
        shown = [i for i in range(len(test)) if gold[i] != words[i] and len(words[i]) >= 6][
            : 2 if run.quick else 4
        ]
        maps = CrossAttentionMaps(
            run.variant_dir("transformer"),
            [words[i] for i in shown],
            vocabulary,
            MAX_LETTERS,
            gold=[gold[i] for i in shown],
            every=max(1, args.epochs // 5),
        )
        run.fit(
            "transformer",
            model,
            [x_train, in_train],
            out_train,
            sample_weight=out_train > 0,
            batch_size=128,
            epochs=args.epochs,
            validation_data=([x_test, in_test], out_test, out_test > 0),
            callbacks=[maps],
        )

        start, end = vocabulary.index(seq2seq.START), vocabulary.index(seq2seq.END)
        predicted = seq2seq.decode(
            seq2seq.greedy_decode(model, x_test, MAX_LETTERS, start, end), vocabulary
        )
        guesses = {**baselines(train, words), "Transformer, greedy decoding": predicted}
        changed = [i for i in range(len(test)) if gold[i] != words[i]]
        rows = [
            {
                "method": name,
                "exact match": seq2seq.exact_match(p, gold),
                "words whose lemma differs": seq2seq.exact_match(
                    [p[i] for i in changed], [gold[i] for i in changed]
                ),
            }
            for name, p in guesses.items()
        ]
        rows[-1].update(
            {
                "parameters": model.count_params(),
                "train s": run.state["variants"]["transformer"]["seconds"],
            }
        )
        run.table(
            f"Word -> lemma: exact match on {len(test)} unseen words ({len(train)} training words)",
            rows,
        )
        examples(
            run, words, gold, predicted, guesses["most frequent rule of the longest known ending"]
        )
        causal_check(run, model, x_test[:256], in_test[:256], args.seed)


if __name__ == "__main__":
    runner.cli_main(main)
