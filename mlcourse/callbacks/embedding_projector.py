"""Learned word embeddings to the TensorBoard projector (the Projector tab).

ML2021 L10, word embedding: one-hot vectors are all equally far apart; a learned embedding puts
words that are used alike near each other. The projector shows the table in 3-D (PCA, t-SNE, UMAP)
with each point labelled by its word.
"""

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from tensorboard.plugins import projector

from mlcourse.validation import check_bool

__all__ = ["EmbeddingProjector", "write_embedding"]


def write_embedding(log_dir, table, labels, name="embedding"):
    """Write ``table`` (``(n, d)``) with one label per row, as one TensorBoard projector run.

    Everything goes into ``log_dir`` itself, which becomes a TensorBoard run of its own (a text
    summary there says what the table is): ``<name>.tsv`` (the labels), a checkpoint holding the
    table (TensorBoard finds the folder's latest checkpoint), and ``projector_config.pbtxt`` naming
    the labels by a path relative to ``log_dir`` (TensorBoard refuses paths that leave the
    config's folder). Returns ``log_dir``.
    """
    table = np.asarray(table, "float32")
    if len(labels) != table.shape[0]:
        raise ValueError(
            f"labels must have one entry per row: {len(labels)} labels for {table.shape[0]} rows"
        )
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    (log_dir / f"{name}.tsv").write_text(
        "".join(f"{label or ' '}\n" for label in labels), encoding="utf-8"
    )
    checkpoint = tf.train.Checkpoint(**{name: tf.Variable(table)})
    checkpoint.save(str(log_dir / f"{name}.ckpt"))  # TensorBoard finds the latest one itself
    config = projector.ProjectorConfig()
    embedding = config.embeddings.add()
    embedding.tensor_name = f"{name}/.ATTRIBUTES/VARIABLE_VALUE"
    embedding.metadata_path = f"{name}.tsv"
    projector.visualize_embeddings(str(log_dir), config)
    writer = tf.summary.create_file_writer(str(log_dir))  # makes the folder a TensorBoard run
    with writer.as_default():
        tf.summary.text(
            "projector",
            f"{table.shape[0]} {name} vectors of {table.shape[1]} numbers, one per label in "
            f"{name}.tsv: open the Projector tab and choose this run.",
            step=0,
        )
    writer.close()
    return log_dir


class EmbeddingProjector(keras.callbacks.Callback):
    """At the end of training, write an ``Embedding`` layer's table to the projector.

    Args:
        log_dir: the model's TensorBoard folder (e.g. ``run.variant_dir(variant)``); the table
            goes to its subfolder ``projector/``, a run of its own.
        labels: one label per row of the table (e.g. ``vocabulary.tokens``).
        layer_name: the ``keras.layers.Embedding`` layer.
        skip_padding: leave out row 0 (the padding token), which is never trained.
    """

    def __init__(self, log_dir, labels, layer_name="embedding", skip_padding=True):
        super().__init__()
        self.log_dir, self.labels = str(log_dir), list(labels)
        self.layer_name = layer_name
        self.skip_padding = check_bool("skip_padding", skip_padding)

    def on_train_end(self, logs=None):
        table = keras.ops.convert_to_numpy(self.model.get_layer(self.layer_name).embeddings)
        start = 1 if self.skip_padding else 0
        write_embedding(Path(self.log_dir) / "projector", table[start:], self.labels[start:])
