"""Attention maps (heads × positions) of chosen sentences as TensorBoard images.

ML2021 L10, self-attention: the answer to "what does ``b = Σ α' v`` actually do?" — row ``i`` of a
map is the distribution ``α'_{i,·}`` that token ``i`` uses to mix the other tokens' values.
"""

import keras
import numpy as np
from matplotlib.figure import Figure

from mlcourse.callbacks.figures import FigureSnapshots, log_figure

__all__ = ["AttentionMaps", "attention_figure", "attention_weights"]


def attention_weights(model, layer_name, x, mask=None):
    """The attention weights ``(batch, heads, T, T)`` of ``model``'s layer ``layer_name`` on ``x``.

    The layer must accept ``return_attention_scores=True`` (every attention layer of
    ``mlcourse.layers`` does); its input is recomputed with a sub-model from ``model.inputs``
    (``Sequential`` or functional). Weights without a heads axis get one of size 1; they come back
    as float32 (also under mixed precision).
    """
    layer = model.get_layer(layer_name)
    inputs = (
        layer.input
    )  # a list when the mask was passed as a tensor too: the sequence comes first
    probe = keras.Model(model.inputs[0], inputs[0] if isinstance(inputs, (list, tuple)) else inputs)
    masking = {} if mask is None else {"mask": mask}  # image layers take no mask
    _, weights = layer(
        probe(x, training=False), return_attention_scores=True, training=False, **masking
    )
    weights = keras.ops.convert_to_numpy(keras.ops.cast(weights, "float32"))
    return weights[:, None] if weights.ndim == 3 else weights


def attention_figure(weights, words, title=""):
    """A figure of attention maps: one panel per head (at most 4 a row), rows = query tokens,
    columns = key tokens, one colour bar for all (α' in [0, 1])."""
    heads, length = weights.shape[0], len(words)
    columns = min(heads, 4)
    rows = -(-heads // columns)
    size = max(3.0, 1.2 + 0.22 * length)
    figure = Figure(figsize=(size * columns + 1.2, size * rows + 0.6), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False)
    for head, axis in enumerate(axes.flat):
        if head >= heads:
            axis.axis("off")
            continue
        image = axis.imshow(weights[head, :length, :length], cmap="viridis", vmin=0.0, vmax=1.0)
        axis.set_xticks(range(length), words, rotation=90, fontsize=7)
        axis.set_yticks(range(length), words, fontsize=7)
        axis.set_title(f"head {head + 1}" if heads > 1 else "α' (rows sum to 1)", fontsize=9)
        if head % columns == 0:
            axis.set_ylabel("query token i")
        if head >= heads - columns:
            axis.set_xlabel("key token j (attended to)")
    figure.colorbar(image, ax=axes, shrink=0.8, label="attention weight α'_ij")
    figure.suptitle(title, fontsize=10)
    return figure


class AttentionMaps(FigureSnapshots):
    """Write the attention maps of a few sentences to TensorBoard (Images tab) every few epochs.

    Args:
        log_dir: the folder of the TensorBoard run (e.g. ``run.variant_dir(variant)``); images go to
            ``<log_dir>/attention``.
        layer_name: the attention layer in the model.
        x: the inputs of the chosen sentences (a batch).
        sentences: their words, one list per sentence (padding left out).
        mask: optional ``(batch, T)`` boolean padding mask passed to the layer.
        every: epochs between two snapshots (the last epoch is always written).
    """

    def __init__(self, log_dir, layer_name, x, sentences, mask=None, every=1):
        super().__init__(log_dir, "attention", every)
        self.layer_name, self.x, self.sentences = layer_name, x, sentences
        self.mask = None if mask is None else np.asarray(mask, bool)

    def write(self, step):
        weights = attention_weights(self.model, self.layer_name, self.x, self.mask)
        for n, words in enumerate(self.sentences):
            figure = attention_figure(weights[n], words, title=f"{self.layer_name}, epoch {step}")
            log_figure(self.writer, f"attention/sentence_{n}", figure, step=step)
