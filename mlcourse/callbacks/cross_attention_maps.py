"""Cross-attention maps of an encoder–decoder (output characters × input characters) as TensorBoard
images.

ML2021 L12, Transformer: the decoder's cross-attention is where each output token reads the
encoder's outputs; row ``i`` of a map is the distribution over input positions that output ``i``
used. For word → lemma the interesting part is the diagonal over the stem and where the suffix goes.
"""

import numpy as np
from matplotlib.figure import Figure

from mlcourse.callbacks.figures import FigureSnapshots, log_figure
from mlcourse.models import seq2seq
from mlcourse.models.seq2seq import END
from mlcourse.validation import MAX_SIZE, check_int, check_positive_int

__all__ = ["CrossAttentionMaps", "cross_attention_figure"]


def cross_attention_figure(weights, inputs, outputs, title=""):
    """One panel per head: rows = ``outputs`` (what the decoder wrote), columns = ``inputs``.

    ``weights``: ``(heads, T_y, T_x)``; only the first ``len(outputs)`` rows and ``len(inputs)``
    columns are drawn.
    """
    weights = np.asarray(weights)
    heads, rows, columns = weights.shape[0], len(outputs), len(inputs)
    across = min(heads, 4)
    down = -(-heads // across)
    width, height = max(2.8, 1.0 + 0.3 * columns), max(2.4, 1.0 + 0.3 * rows)
    figure = Figure(figsize=(width * across + 1.2, height * down + 0.6), layout="constrained")
    axes = figure.subplots(down, across, squeeze=False)
    for head, axis in enumerate(axes.flat):
        if head >= heads:
            axis.axis("off")
            continue
        image = axis.imshow(
            weights[head, :rows, :columns], cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto"
        )
        axis.set_xticks(range(columns), inputs, fontsize=8)
        axis.set_yticks(range(rows), outputs, fontsize=8)
        axis.set_title(f"head {head + 1}", fontsize=9)
        if head % across == 0:
            axis.set_ylabel("letter written")
        if head >= heads - across:
            axis.set_xlabel("letter read")
    figure.colorbar(image, ax=axes, shrink=0.8, label="cross-attention weight")
    figure.suptitle(title, fontsize=10)
    return figure


class CrossAttentionMaps(FigureSnapshots):
    """Greedy-decode a few inputs and write their cross-attention maps to TensorBoard (Images tab).

    Uses ``mlcourse.models.seq2seq``: the model must be a ``transformer_seq2seq``. Each snapshot
    decodes the words with ``greedy_decode`` and draws the cross-attention of decoder block
    ``block`` while it wrote them (rows: the characters it wrote, ``</s>`` last).

    Args:
        log_dir: the TensorBoard run folder (e.g. ``run.variant_dir(variant)``); images go to
            ``<log_dir>/cross_attention``.
        words: the input strings.
        vocabulary: the character ``Vocabulary`` (with ``<s>`` and ``</s>``).
        source_length: the model's input width.
        gold: optional gold outputs, shown in the titles.
        block: which decoder block (default the last).
        every: epochs between two snapshots (the last epoch is always written).
    """

    def __init__(self, log_dir, words, vocabulary, source_length, gold=None, block=-1, every=1):
        super().__init__(log_dir, "cross_attention", every)
        if gold is not None and len(gold) != len(words):
            raise ValueError(
                f"gold must have one string per word, got {len(gold)} for {len(words)} words"
            )
        self.words, self.vocabulary = list(words), vocabulary
        self.source_length = check_positive_int("source_length", source_length)
        self.block = check_int("block", block, -MAX_SIZE, MAX_SIZE)
        self.gold = gold

    def maps(self):
        """``(predictions, weights)``: the greedy outputs and their ``(N, heads, T_y, T_x)``
        maps.
        """
        start, end = self.vocabulary.index(seq2seq.START), self.vocabulary.index(seq2seq.END)
        source = seq2seq.encode_chars(self.words, self.vocabulary, self.source_length)
        length = self.model.inputs[1].shape[1]
        predicted = seq2seq.decode(
            seq2seq.greedy_decode(self.model, source, length, start, end), self.vocabulary
        )
        decoder_in = seq2seq.encode_chars(predicted, self.vocabulary, length, start=True)
        weights = seq2seq.cross_attention_weights(self.model, source, decoder_in, block=self.block)
        return predicted, weights

    def write(self, step):
        predicted, weights = self.maps()
        for n, (word, output) in enumerate(zip(self.words, predicted, strict=False)):
            outputs = list(output) + [END]
            title = f"{word} → {output}" + (
                f" (gold {self.gold[n]})" if self.gold is not None else ""
            )
            figure = cross_attention_figure(
                weights[n],
                list(word)[: self.source_length],
                outputs,
                title=f"{title}, epoch {step}",
            )
            log_figure(self.writer, f"cross_attention/word_{n}", figure, step=step)
