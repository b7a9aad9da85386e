"""A character-level encoder–decoder Transformer, greedy decoding and its cross-attention (ML2021
L12).

ML2021 L12, Transformer: the encoder reads the input sequence with self-attention; the decoder
writes the output one token at a time, its masked self-attention seeing only what it has written so
far and its cross-attention looking at the encoder's outputs. Training uses teacher forcing (the
decoder is fed the gold output shifted right: ``<s> y_1 … y_{n-1}`` → ``y_1 … y_n </s>``); testing
uses greedy decoding (feed back the most probable token until ``</s>``).

Characters are ids of a ``mlcourse.data.tagged_text.Vocabulary`` built by ``char_vocabulary``:
0 padding, 1 unknown, 2 ``<s>`` (start), 3 ``</s>`` (end), then the characters.

The model (``transformer_seq2seq``) is a functional Keras model with inputs ``[source, decoder_in]``
(both int ids, 0 = padding) and ``(batch, T_y, vocabulary)`` next-character probabilities; its
layers are named ``source_embedding``, ``encoder_1`` … ``encoder_N``, ``target_embedding``,
``decoder_1`` … ``decoder_N`` and ``next_char``.
"""

import keras
import numpy as np
from keras import layers, ops

from mlcourse.data.tagged_text import Vocabulary
from mlcourse.layers.position import PositionEmbedding, SinusoidalPositionalEncoding
from mlcourse.layers.transformer import TransformerDecoderBlock, TransformerEncoderBlock
from mlcourse.validation import check_bool, check_choice, check_positive_int, check_unit_interval

__all__ = [
    "END",
    "START",
    "char_vocabulary",
    "cross_attention_weights",
    "decode",
    "encode_chars",
    "exact_match",
    "greedy_decode",
    "seq2seq_arrays",
    "transformer_seq2seq",
]

START, END = "<s>", "</s>"
POSITIONS = ("learned", "sinusoidal")


# ------------------------------------------------------------------------------------------ arrays
def char_vocabulary(words):
    """A ``Vocabulary`` of the characters in ``words`` (most frequent first) after ``<s>`` and
    ``</s>``.
    """
    counts = {}
    for word in words:
        for char in word:
            counts[char] = counts.get(char, 0) + 1
    ranked = sorted(counts, key=lambda c: (-counts[c], c))
    return Vocabulary([START, END] + ranked)


def encode_chars(words, vocabulary, length, start=False, end=False):
    """``(N, length)`` int32 character ids, 0-padded (longer words are cut); ``<s>`` / ``</s>``
    added if asked.
    """
    ids = np.zeros((len(words), length), "int32")
    for n, word in enumerate(words):
        tokens = ([START] if start else []) + list(word) + ([END] if end else [])
        row = [vocabulary.index(t) for t in tokens][:length]
        ids[n, : len(row)] = row
    return ids


def seq2seq_arrays(pairs, vocabulary, source_length, target_length):
    """Teacher-forcing arrays for ``(source, target)`` string pairs.

    Returns ``(source, decoder_in, decoder_out)``: ``decoder_in`` is ``<s> y_1 … y_n`` and
    ``decoder_out`` is ``y_1 … y_n </s>`` (both ``target_length`` wide); the loss weight is
    ``decoder_out > 0``.
    """
    sources, targets = [s for s, _ in pairs], [t for _, t in pairs]
    return (
        encode_chars(sources, vocabulary, source_length),
        encode_chars(targets, vocabulary, target_length, start=True),
        encode_chars(targets, vocabulary, target_length, end=True),
    )


def decode(ids, vocabulary):
    """Strings from id rows: characters up to the first ``</s>`` or padding (``<s>`` and unknowns
    skipped).
    """
    end, start = vocabulary.index(END), vocabulary.index(START)
    words = []
    for row in np.asarray(ids):
        chars = []
        for i in row:
            if i in (0, end):
                break
            if i not in (1, start):
                chars.append(vocabulary.tokens[i])
        words.append("".join(chars))
    return words


def exact_match(predicted, gold):
    """The fraction of ``predicted`` strings equal to their ``gold`` string."""
    if len(predicted) != len(gold) or not len(gold):
        raise ValueError(
            f"predicted and gold must be non-empty and equally long, got {len(predicted)} and "
            f"{len(gold)}"
        )
    return float(np.mean([p == g for p, g in zip(predicted, gold, strict=True)]))


# ------------------------------------------------------------------------------------------- model
def _embed(ids, vocabulary_size, units, length, positions, prefix):
    vectors = layers.Embedding(vocabulary_size, units, name=f"{prefix}_embedding")(ids)
    if positions == "learned":
        return PositionEmbedding(length, name=f"{prefix}_position")(vectors)
    vectors = layers.Rescaling(units**0.5, name=f"{prefix}_scale")(vectors)  # the paper's √d
    return SinusoidalPositionalEncoding(name=f"{prefix}_position")(vectors)


def transformer_seq2seq(
    vocabulary_size,
    source_length,
    target_length,
    units=64,
    num_heads=4,
    ff_dim=128,
    num_layers=2,
    dropout=0.1,
    norm_first=True,
    positions="learned",
    name="transformer",
):
    """An encoder–decoder Transformer over character ids (uncompiled; see the module docstring).

    Args:
        vocabulary_size: characters, padding and the special tokens included.
        source_length, target_length: the widths ``T_x`` and ``T_y`` of the two inputs.
        units, num_heads, ff_dim, dropout, norm_first: of every ``TransformerEncoderBlock`` and
            ``TransformerDecoderBlock``; pre-norm stacks end with a LayerNorm.
        num_layers: encoder blocks, and as many decoder blocks.
        positions: ``"learned"`` (``PositionEmbedding``) or ``"sinusoidal"`` (embeddings × √d plus
            ``SinusoidalPositionalEncoding``).
    """
    for argument, value in (
        ("vocabulary_size", vocabulary_size),
        ("source_length", source_length),
        ("target_length", target_length),
        ("num_layers", num_layers),
    ):
        check_positive_int(argument, value)
    check_unit_interval("dropout", dropout)
    check_bool("norm_first", norm_first)
    check_choice("positions", positions, POSITIONS)
    source = keras.Input((source_length,), dtype="int32", name="source")
    target = keras.Input((target_length,), dtype="int32", name="decoder_in")
    source_mask, target_mask = ops.greater(source, 0), ops.greater(target, 0)
    block = dict(
        units=units,
        num_heads=num_heads,
        ff_dim=ff_dim,
        dropout=dropout,
        norm_first=norm_first,
    )

    h = layers.Dropout(dropout)(
        _embed(source, vocabulary_size, units, source_length, positions, "source")
    )
    for n in range(1, num_layers + 1):
        h = TransformerEncoderBlock(**block, name=f"encoder_{n}")(h, mask=source_mask)
    if norm_first:
        h = layers.LayerNormalization(epsilon=1e-5, name="encoder_norm")(h)

    y = layers.Dropout(dropout)(
        _embed(target, vocabulary_size, units, target_length, positions, "target")
    )
    for n in range(1, num_layers + 1):
        y = TransformerDecoderBlock(**block, name=f"decoder_{n}")(
            [y, h], mask=[target_mask, source_mask]
        )
    if norm_first:
        y = layers.LayerNormalization(epsilon=1e-5, name="decoder_norm")(y)
    probabilities = layers.Dense(
        vocabulary_size, activation="softmax", dtype="float32", name="next_char"
    )(y)
    return keras.Model([source, target], probabilities, name=name)


def _decoder_blocks(model):
    return sorted(
        (layer for layer in model.layers if isinstance(layer, TransformerDecoderBlock)),
        key=lambda layer: int(layer.name.rsplit("_", 1)[-1]),
    )


# ---------------------------------------------------------------------------------------- decoding
def greedy_decode(model, source, max_length, start_id, end_id, batch_size=1024):
    """Greedy decoding: ``(N, max_length)`` output ids, 0 after the first ``end_id``.

    Step ``t`` runs the decoder on ``<s> ŷ_1 … ŷ_t`` (the rest padding, which the causal mask keeps
    out of view) and appends the most probable next token ``ŷ_{t+1}``; a finished row stays
    finished. ``max_length`` is at most the model's ``T_y``.
    """
    target_length = model.inputs[1].shape[1]
    check_positive_int("max_length", max_length)
    if max_length > target_length:
        raise ValueError(
            f"max_length must be <= the model's decoder length {target_length}, got {max_length}"
        )
    source = np.asarray(source, "int32")
    outputs = []
    for begin in range(0, len(source), batch_size):
        chunk = source[begin : begin + batch_size]
        decoder_in = np.zeros((len(chunk), target_length), "int32")
        decoder_in[:, 0] = start_id
        out = np.zeros((len(chunk), max_length), "int32")
        finished = np.zeros(len(chunk), bool)
        for t in range(max_length):
            probabilities = keras.ops.convert_to_numpy(model([chunk, decoder_in], training=False))
            step = np.where(finished, 0, np.argmax(probabilities[:, t], axis=-1)).astype("int32")
            out[:, t] = step
            finished |= step == end_id
            if finished.all():
                break
            if t + 1 < target_length:
                decoder_in[:, t + 1] = step
        outputs.append(out)
    return np.concatenate(outputs) if outputs else np.zeros((0, max_length), "int32")


def cross_attention_weights(model, source, decoder_in, block=-1):
    """The cross-attention weights ``(N, heads, T_y, T_x)`` of decoder block ``block`` (default the
    last).

    Row ``i`` of a head's map is the distribution over input characters that output position ``i``
    looked at. The block's inputs are recomputed with a sub-model of ``model``.
    """
    blocks = _decoder_blocks(model)
    if not blocks:
        raise ValueError("model has no TransformerDecoderBlock")
    layer = blocks[block]
    index = blocks.index(layer)
    previous = model.get_layer("target_position") if index == 0 else blocks[index - 1]
    names = [each.name for each in model.layers]
    encoder = model.get_layer(
        "encoder_norm"
        if "encoder_norm" in names
        else [name for name in names if name.startswith("encoder_")][-1]
    )
    probe = keras.Model(model.inputs, [previous.output, encoder.output])
    source, decoder_in = np.asarray(source, "int32"), np.asarray(decoder_in, "int32")
    targets, encoded = probe([source, decoder_in], training=False)
    _, weights = layer(
        [targets, encoded],
        mask=[decoder_in > 0, source > 0],
        return_attention_scores=True,
        training=False,
    )
    return keras.ops.convert_to_numpy(weights)
