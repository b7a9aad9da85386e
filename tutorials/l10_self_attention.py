"""Lectures 10-11: self-attention from scratch, tagging "I saw a saw".

Every token gets a label, and sometimes only a far-away word decides it. Part 1 is a synthetic "I
saw a saw": an ambiguous word's tag is set by a cue somewhere in the sequence. Taggers that see one
token, a window of ±k tokens, the whole sentence through a BiLSTM, or through self-attention
(one head; multi-head with positional encoding; distance-decayed; truncated to ±k) are compared by
token accuracy, accuracy by distance to the cue, and training time. Part 2 tags the real WSJ
sample (Penn tags) and the Turkish Web Treebank (UD tags; accuracy by dependency distance) next to
a most-frequent-tag baseline. TensorBoard: scalars for every tagger, attention maps (Images tab:
rows are α' of each token), learned word embeddings (Projector tab), result tables (Text tab), and
the student's multi-head question answered numerically.
"""

import numpy as np

from mlcourse import runner

TUTORIAL = {
    "id": "l10-self-attention",
    "lecture": "10-11",
    "title": "Self-attention from scratch: tagging I saw a saw",
}

SYNTHETIC = [
    "per_token",
    "window:1",
    "window:3",
    "birnn",
    "self_attention",
    "self_attention/one_hot",
    "multi_head",
    "distance_decay",
    "truncated:3",
]
REAL = ["per_token", "window:2", "birnn", "multi_head", "distance_decay"]
QUICK = ["window:1", "self_attention"]
FEATURES = ("word", "suffix", "shape")


def train_tagger(run, args, variant, spec, train, test, maps_of=None, **options):
    """Build, train and score one tagger; returns (model, result row)."""
    import keras

    from mlcourse.callbacks.attention_maps import AttentionMaps
    from mlcourse.callbacks.embedding_projector import EmbeddingProjector
    from mlcourse.models.taggers import predict_tags, tagger, token_accuracy

    layer, _, embedding = spec.partition("/")  # "window:3", "self_attention/one_hot"
    kind, _, window = layer.partition(":")
    with run.scope():
        model = tagger(
            kind,
            len(train.vocabulary),
            len(train.tags),
            train.x.shape[1],
            train.x.shape[2],
            width=args.width,
            window=int(window or 2),
            embedding=embedding or "learned",
            **options,
        )
        model.compile(
            keras.optimizers.Adam(args.learning_rate),
            "sparse_categorical_crossentropy",
            weighted_metrics=["accuracy"],
        )
    callbacks = (
        [] if embedding else [EmbeddingProjector(run.variant_dir(variant), train.vocabulary.tokens)]
    )
    if maps_of is not None and "attention" in [layer.name for layer in model.layers]:
        chosen = np.asarray(maps_of)
        callbacks.append(
            AttentionMaps(
                run.variant_dir(variant),
                "attention",
                test.x[chosen],
                [test.words(n) for n in chosen],
                mask=test.mask[chosen],
                every=max(1, args.epochs // 3),
            )
        )
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
    seconds = run.state["variants"][variant]["seconds"]
    return (
        model,
        predicted,
        {
            "tagger": spec,
            "token accuracy": token_accuracy(predicted, test),
            "parameters": model.count_params(),
            "train s": seconds,
        },
    )


def synthetic_part(run, args, specs):
    """Part 1: the cue task, accuracy overall, on cue-decided tokens, and by distance to the cue."""
    from mlcourse.data.sequence_labeling import cue_task
    from mlcourse.models.taggers import accuracy_by_distance, token_accuracy

    size, length = (300, 16) if run.quick else (4000, 32)
    train = cue_task(size, max_length=length, seed=args.seed)
    test = cue_task(size // 4, max_length=length, seed=args.seed + 1000)
    edges = [1, 2, 4, 8, 16, length + 1]
    rows, curves = [], {}
    for spec in specs:
        variant = "cue-" + spec.replace(":", "").replace("/", "-")
        _, predicted, row = train_tagger(run, args, variant, spec, train, test, maps_of=[0, 1])
        row["cue-decided tokens"] = token_accuracy(predicted, test, test.distance >= 0)
        curves[spec] = accuracy_by_distance(predicted, test, edges)
        rows.append(row)
    run.table("Synthetic cue task: held-out accuracy", rows)
    run.figure("synthetic/accuracy_by_distance", distance_figure(curves, "distance to the cue"))


def real_part(run, args, name, sentences, specs, by_distance=False):
    """Part 2: a real corpus, seeded 90/10 split, next to the most-frequent-tag baseline."""
    from mlcourse.data import tagged_text
    from mlcourse.models.taggers import accuracy_by_distance

    if run.quick:
        sentences = sentences[:100]
    data = tagged_text.split_and_encode(sentences, FEATURES, seed=args.seed)
    train, test, vocabulary, tags = data.train, data.test, data.vocabulary, data.tags
    rows = [{"tagger": "most frequent tag (baseline)", "token accuracy": data.baseline}]
    curves, models = {}, {}
    for spec in specs:
        variant = f"{name}-" + spec.replace(":", "")
        models[spec], predicted, row = train_tagger(
            run, args, variant, spec, train, test, maps_of=[0], dropout=args.dropout
        )
        rows.append(row)
        curves[spec] = (
            accuracy_by_distance(predicted, test, [1, 2, 3, 5, 9, 65]) if by_distance else None
        )
    run.table(
        f"{name}: held-out token accuracy ({len(data.train_sentences)} / {len(data.test_sentences)} sentences)",
        rows,
    )
    if by_distance:
        run.figure(
            f"{name}/accuracy_by_dependency_distance",
            distance_figure(curves, "distance to the head"),
        )
    return models, vocabulary, tags


def distance_figure(curves, xlabel):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4))
    for spec, rows in curves.items():
        axis.plot([r[0] for r in rows], [r[1] for r in rows], marker="o", label=spec)
    axis.set(xlabel=xlabel, ylabel="token accuracy", ylim=(0, 1.02))
    axis.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))  # outside: it hid points
    return figure


def saw_a_saw(run, models, vocabulary, tags):
    """The lecture's sentence through the WSJ taggers: is the first "saw" a verb, the second a noun?"""
    from mlcourse.data import tagged_text
    from mlcourse.models.taggers import predict_tags

    sentence = tagged_text.TaggedSentence("I saw a saw .".split(), ["PRP", "VBD", "DT", "NN", "."])
    data = tagged_text.encode([sentence], vocabulary, tags, 64, FEATURES)
    rows = [
        {
            "tagger": spec,
            **{
                f"{i}:{w}": tags.tokens[t]
                for i, (w, t) in enumerate(zip(sentence.words, predict_tags(model, data)[0], strict=False))
            },
        }
        for spec, model in models.items()
    ]
    run.table('"I saw a saw ." tagged by the WSJ taggers (gold: PRP VBD DT NN .)', rows)


def head_collapse(run, seed):
    """The student's question: W^{q,h} after W^q is one matrix per head (same function, fewer parameters)."""
    import keras

    from mlcourse.layers import MultiHeadSelfAttention, collapse_two_stage_heads

    rng = np.random.default_rng(seed)
    features, heads, depth = 16, 4, 4
    a = rng.normal(size=(2, 10, features)).astype("float32")
    shared = {n: rng.normal(size=(features, features), scale=0.3).astype("float32") for n in "qkv"}
    per_head = {
        n: rng.normal(size=(heads, features, depth), scale=0.3).astype("float32") for n in "qkv"
    }
    layer = MultiHeadSelfAttention(heads * depth, heads, use_bias=False)
    layer.build(a.shape)
    out_kernel = keras.ops.convert_to_numpy(layer.output_kernel)
    layer.set_weights(
        [
            keras.ops.convert_to_numpy(collapse_two_stage_heads(shared[n], per_head[n]))
            for n in "qkv"
        ]
        + [out_kernel]
    )
    q, k, v = (
        np.einsum("btw,hwd->bhtd", a @ shared[n], per_head[n]) for n in "qkv"
    )  # the lecture's two stages
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(depth)
    alpha = np.exp(scores - scores.max(-1, keepdims=True))
    two_stage = np.einsum("bhtd,hdo->bto", alpha / alpha.sum(-1, keepdims=True) @ v, out_kernel)
    gap = float(np.abs(two_stage - keras.ops.convert_to_numpy(layer(a))).max())
    run.table(
        "Multi-head: two-stage projections vs one matrix per head",
        [
            {
                "form": "lecture: W^q then W^{q,h} (q, k, v)",
                "projection parameters": 3 * (features**2 + per_head["q"].size),
            },
            {
                "form": "collapsed: W^{q,h} W^q (q, k, v)",
                "projection parameters": 3 * features * heads * depth,
            },
            {"form": "max |output difference|", "projection parameters": f"{gap:.2e}"},
        ],
    )


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
        default=64,
        help="embedding / hidden width (default 64)",
    )
    parser.add_argument("--learning-rate", type=runner.positive_float, default=3e-3)
    parser.add_argument(
        "--dropout", type=float, default=0.3, help="dropout for the real corpora (default 0.3)"
    )
    args = parser.parse_args(argv)
    args.epochs = args.epochs or (1 if args.quick else 12)
    if args.quick:
        args.width = min(args.width, 16)
    with runner.Run(TUTORIAL, args) as run:
        from mlcourse.data import tagged_text

        head_collapse(run, args.seed)
        synthetic_part(run, args, QUICK if run.quick else SYNTHETIC)
        wsj_models, vocabulary, tags = real_part(
            run, args, "wsj", tagged_text.load_wsj(), ["multi_head"] if run.quick else REAL
        )
        saw_a_saw(run, wsj_models, vocabulary, tags)
        if not run.quick:
            real_part(
                run, args, "turkish-web", tagged_text.load_turkish("web"), REAL, by_distance=True
            )


if __name__ == "__main__":
    runner.cli_main(main)
