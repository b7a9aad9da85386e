"""Learned word embeddings to the TensorBoard projector (the Projector tab).

ML2021 L10, word embedding: one-hot vectors are all equally far apart; a learned embedding puts
words that are used alike near each other. The projector shows the table in 3-D (PCA, t-SNE, UMAP)
with each point labelled by its word.
"""

import keras
import numpy as np

__all__ = ["EmbeddingProjector", "write_embedding"]


def write_embedding(log_dir, table, labels, name="embedding"):
    """Write ``table`` (``(n, d)``) with one label per row so TensorBoard's projector shows it.

    Files in ``log_dir``: ``<name>.tsv`` (the labels), a checkpoint holding the table, and
    ``projector_config.pbtxt`` pointing at both.
    """
    import tensorflow as tf
    from tensorboard.plugins import projector

    table = np.asarray(table, "float32")
    if len(labels) != table.shape[0]:
        raise ValueError(
            f"labels must have one entry per row: {len(labels)} labels for {table.shape[0]} rows"
        )
    tf.io.gfile.makedirs(str(log_dir))
    with open(f"{log_dir}/{name}.tsv", "w", encoding="utf-8") as handle:
        handle.writelines(f"{label or ' '}\n" for label in labels)
    checkpoint = tf.train.Checkpoint(**{name: tf.Variable(table)})
    checkpoint.save(f"{log_dir}/{name}.ckpt")
    config = projector.ProjectorConfig()
    embedding = config.embeddings.add()
    embedding.tensor_name = f"{name}/.ATTRIBUTES/VARIABLE_VALUE"
    embedding.metadata_path = f"{name}.tsv"
    projector.visualize_embeddings(str(log_dir), config)


class EmbeddingProjector(keras.callbacks.Callback):
    """At the end of training, write an ``Embedding`` layer's table to the projector.

    Args:
        log_dir: the TensorBoard run folder (e.g. ``run.variant_dir(variant)``).
        labels: one label per row of the table (e.g. ``vocabulary.tokens``).
        layer_name: the ``keras.layers.Embedding`` layer.
        skip_padding: leave out row 0 (the padding token), which is never trained.
    """

    def __init__(self, log_dir, labels, layer_name="embedding", skip_padding=True):
        super().__init__()
        self.log_dir, self.labels = str(log_dir), list(labels)
        self.layer_name, self.skip_padding = layer_name, skip_padding

    def on_train_end(self, logs=None):
        table = keras.ops.convert_to_numpy(self.model.get_layer(self.layer_name).embeddings)
        start = 1 if self.skip_padding else 0
        write_embedding(self.log_dir, table[start:], self.labels[start:])
