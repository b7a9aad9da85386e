"""Lecture 11: self-attention on a graph — 1-hop vs the student's multi-hop heads, with few labels.

The lecture: on a graph the attention matrix need not be learned from scratch — a node attends only
to the nodes its edges reach. The student's notes ask whether nodes 1, 2, … hops away should get
their own attention ("a 1-hop attention matrix, a 2-hop attention matrix"); here each hop distance
is its own head (``GraphSelfAttention(hops=k)``). Node classification on two real graphs that ship
with networkx: Zachary's karate club (which faction each member joined) and Davis's southern women
(the ethnographers' two cliques of women; events unlabelled). Node features are one-hot identities,
so an MLP without edges has nothing to go on: it shows what the edges are worth. Only 1, 2 or 4
nodes per class are labelled; each model is trained on several seeded draws of those nodes and
scored on every other labelled node (mean ± std over the draws).

Full mode: both graphs; MLP, attention 1-hop, 1-hop × 2 layers, 2-hop and 3-hop; 1/2/4 labels per
class × 10 draws × 200 full-graph updates (about 10 min on 2 CPU cores). Quick: the karate club,
MLP / 1-hop / 2-hop, 1 and 4 labels per class × 2 draws × 100 updates. TensorBoard: training curves
of one showcase model per graph and kind (Scalars; validation = the unlabelled nodes), the results
table and the attention of one node (Text), accuracy against labels, the graph coloured by the
predictions and the attention weights (Images).
"""

import numpy as np

from mlcourse import runner

TUTORIAL = {
    "id": "l11-graph-attention",
    "lecture": "11",
    "title": "Graph self-attention: 1-hop vs multi-hop",
}

MODELS = {  # name -> mlcourse.models.graph.node_classifier options
    "MLP (no edges)": {"kind": "mlp"},
    "attention 1-hop": {"kind": "attention", "hops": 1},
    "attention 1-hop x2 layers": {"kind": "attention", "hops": 1, "layers": 2},
    "attention 2-hop": {"kind": "attention", "hops": 2},
    "attention 3-hop": {"kind": "attention", "hops": 3},
}
QUICK_MODELS = ["MLP (no edges)", "attention 1-hop", "attention 2-hop"]


def slug(name):
    return name.split(" (")[0].replace(" ", "-").lower()


def build(graph, args, name):
    import keras

    from mlcourse.models.graph import node_classifier

    model = node_classifier(
        nodes=graph.nodes,
        features=graph.features.shape[1],
        classes=graph.classes,
        units=args.units,
        **MODELS[name],
    )
    model.compile(
        keras.optimizers.Adam(args.learning_rate),
        "sparse_categorical_crossentropy",
        weighted_metrics=["accuracy"],
    )
    return model


def compare(args, graph, names, per_class):
    """Every model on every draw of labelled nodes: rows for the table and the curves for the figure."""
    from mlcourse.models.graph import evaluate_over_draws

    rows = []
    for name in names:
        for row in evaluate_over_draws(
            lambda: build(graph, args, name),
            graph,
            per_class,
            args.draws,
            seed=args.seed,
            steps=args.steps,
        ):
            rows.append(
                {
                    "graph": graph.name,
                    "model": name,
                    "labels/class": row["per_class"],
                    "accuracy mean": row["mean"],
                    "accuracy std": row["std"],
                    "draws": args.draws,
                }
            )
            print(
                f"  {graph.name} {name} {row['per_class']}/class: {row['mean']:.3f} ± {row['std']:.3f}"
            )
    return rows


def showcase(run, args, graph, name):
    """One model trained with the runner (TensorBoard curves; validation = the unlabelled nodes)."""
    from mlcourse.data.graphs import labelled_draws
    from mlcourse.models.graph import node_arrays

    with run.scope():
        model = build(graph, args, name)
    train = labelled_draws(graph.labels, args.showcase_labels, 1, args.seed)[0]
    epochs = 5 if run.quick else 20
    x, y, w = node_arrays(
        graph, train, repeat=max(1, args.steps // epochs)
    )  # steps // epochs updates an epoch
    run.fit(
        f"{graph.name}-{slug(name)}",
        model,
        x,
        y,
        sample_weight=w,
        batch_size=1,
        epochs=epochs,
        validation_data=node_arrays(graph, np.setdiff1d(graph.labelled, train)),
    )
    return model, train


def accuracy_figure(rows):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    graphs = list(dict.fromkeys(r["graph"] for r in rows))
    figure, axes = plt.subplots(1, len(graphs), figsize=(5.5 * len(graphs), 4), squeeze=False)
    for axis, graph in zip(axes[0], graphs, strict=False):
        for i, name in enumerate(dict.fromkeys(r["model"] for r in rows)):
            mine = [r for r in rows if r["graph"] == graph and r["model"] == name]
            axis.errorbar(
                [r["labels/class"] * 1.04**i for r in mine],
                [r["accuracy mean"] for r in mine],
                yerr=[r["accuracy std"] for r in mine],
                marker="o",
                capsize=3,
                label=name,
            )
        axis.set(
            title=graph,
            xlabel="labelled nodes per class",
            ylabel="accuracy on the other nodes",
            xscale="log",
            ylim=(0, 1.02),
        )
        ticks = sorted({r["labels/class"] for r in rows})
        axis.minorticks_off()
        axis.set_xticks(ticks, [str(v) for v in ticks])
        axis.legend(fontsize=8)
    return figure


def prediction_figure(graph, probabilities, train, title):
    """The graph coloured by predicted class; thick outline = trained on, red = wrong, grey = no label."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx

    g = graph.to_networkx()
    layout = nx.spring_layout(g, seed=1)
    predicted = probabilities.argmax(-1)
    labelled = graph.labels >= 0
    colours = [f"C{p}" if labelled[i] else "lightgrey" for i, p in enumerate(predicted)]
    edges = [
        "black"
        if i in train
        else ("red" if labelled[i] and predicted[i] != graph.labels[i] else "white")
        for i in range(graph.nodes)
    ]
    figure, axis = plt.subplots(figsize=(7, 6))
    nx.draw_networkx_edges(g, layout, ax=axis, alpha=0.3)
    nx.draw_networkx_nodes(
        g, layout, ax=axis, node_color=colours, edgecolors=edges, linewidths=2.5, node_size=260
    )
    nx.draw_networkx_labels(
        g, layout, {i: n.split()[0] for i, n in enumerate(graph.node_names)}, ax=axis, font_size=7
    )
    for c, class_name in enumerate(graph.class_names):
        axis.scatter([], [], color=f"C{c}", label=f"predicted {class_name}")
    axis.scatter([], [], color="lightgrey", label="no label")
    axis.scatter([], [], facecolor="white", edgecolor="black", label="trained on")
    axis.scatter([], [], facecolor="white", edgecolor="red", label="wrong")
    axis.legend(fontsize=8)
    axis.set_title(title)
    axis.axis("off")
    return figure


def attention_of(run, graph, model, name, node):
    """One node's attention weights, hop by hop: a bar chart (image) and the largest ones (text)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mlcourse.models.graph import attention_weights

    weights = attention_weights(model, graph)[:, node]  # (hops, N)
    figure, axes = plt.subplots(len(weights), 1, figsize=(9, 2.2 * len(weights)), squeeze=False)
    rows = []
    for hop, (axis, row) in enumerate(zip(axes[:, 0], weights, strict=False), start=1):
        seen = np.flatnonzero(row > 0)
        axis.bar([graph.node_names[j] for j in seen], row[seen], color=f"C{hop - 1}")
        axis.set(ylabel=f"hop {hop}", ylim=(0, 1))
        axis.tick_params(axis="x", labelrotation=90, labelsize=7)
        rows += [
            {"hop": hop, "node": graph.node_names[j], "weight": float(row[j])}
            for j in seen[np.argsort(-row[seen])][:5]
        ]
    axes[0, 0].set_title(f"{graph.name}, {name}: attention of node {graph.node_names[node]}")
    run.figure(f"{graph.name}/attention_of_node_{node}", figure)
    run.table(
        f"{graph.name}: {name}, largest attention weights of node {graph.node_names[node]}", rows
    )


def main(argv=None):
    parser = runner.tutorial_parser(TUTORIAL, __doc__)
    parser.add_argument(
        "--draws",
        type=runner.positive_int,
        default=None,
        help="labelled sets per setting (10; quick 2)",
    )
    parser.add_argument(
        "--steps", type=runner.positive_int, default=None, help="updates per model (200; quick 100)"
    )
    parser.add_argument(
        "--units", type=runner.positive_int, default=16, help="hidden width (default 16)"
    )
    parser.add_argument("--learning-rate", type=runner.positive_float, default=0.01)
    parser.add_argument(
        "--showcase-labels",
        type=runner.positive_int,
        default=2,
        help="labels per class of the showcase models (default 2)",
    )
    args = parser.parse_args(argv)
    args.draws = args.draws or (2 if args.quick else 10)
    args.steps = args.steps or (100 if args.quick else 200)
    with runner.Run(TUTORIAL, args) as run:
        from mlcourse.data import graphs
        from mlcourse.models.graph import node_accuracy, predict_nodes

        names = QUICK_MODELS if run.quick else list(MODELS)
        per_class = [1, 4] if run.quick else [1, 2, 4]
        rows = []
        for graph in [graphs.karate_club()] + ([] if run.quick else [graphs.southern_women()]):
            rows += run.result(
                f"{graph.name}/draws", lambda: compare(args, graph, names, per_class)
            )  # kept on resume
            shown = (
                ["attention 2-hop"] if run.quick else [n for n in names if n != "MLP (no edges)"]
            )
            for name in shown:
                model, train = showcase(run, args, graph, name)
                probabilities = predict_nodes(model, graph)
                accuracy = node_accuracy(
                    probabilities, graph.labels, np.setdiff1d(graph.labelled, train)
                )
                run.figure(
                    f"{graph.name}/predictions_{slug(name)}",
                    prediction_figure(
                        graph,
                        probabilities,
                        train,
                        f"{graph.name}, {name}, {args.showcase_labels} labels/class: "
                        f"accuracy {accuracy:.2f} on the other nodes",
                    ),
                )
            attention_of(run, graph, model, shown[-1], node=int(np.argmax(graph.adjacency.sum(1))))
        run.table(
            "Node classification: accuracy on the unlabelled nodes (mean and std over draws)", rows
        )
        run.figure("accuracy_vs_labels", accuracy_figure(rows))


if __name__ == "__main__":
    runner.cli_main(main)
