"""Sequence taggers of lectures 10-11, from one token at a time to self-attention (ML2021 L10-11).

Every builder takes ``(T, F)`` integer feature ids (0 = padding; see ``mlcourse.data.tagged_text``)
and returns an uncompiled functional model giving ``(T, num_tags)`` tag probabilities. The
padding mask is computed from the first feature and handed to the layers that use it (RNN,
attention); the loss ignores padding through ``sample_weight=data.mask``.

=================  ============================================================================
kind               what each token's tag can depend on
=================  ============================================================================
``per_token``      the token alone (lecture's method 1: fails on "I saw a saw")
``window``         the tokens within ±k (method 2: a window MLP, written as a 1-D convolution)
``birnn``          the whole sentence through a bidirectional LSTM (or GRU)
``self_attention`` the whole sentence through one head of ``SelfAttention`` (method 3)
``multi_head``     ``MultiHeadSelfAttention`` over the inputs plus ``SinusoidalPositionalEncoding``
``distance_decay`` ``multi_head`` with the notes' decay (``DistanceDecayAttention``): scores fade
                   with ``|i − j|``; the decay gives the distance, the encoding the position
``truncated``      ``SelfAttention(window=k)``: only the tokens within ±k
``transformer``    a stack of ``TransformerEncoderBlock`` (pre-norm) over sinusoidal positions (L12)
``conformer``      a stack of ``ConformerBlock`` (convolution over ±k tokens; homework 4) over
                   sinusoidal positions
=================  ============================================================================
"""

import itertools

import keras
import numpy as np
from keras import layers, ops

from mlcourse.layers import (
    ConformerBlock,
    DistanceDecayAttention,
    MultiHeadSelfAttention,
    SelfAttention,
    SinusoidalPositionalEncoding,
    TransformerEncoderBlock,
)

__all__ = ["KINDS", "accuracy_by_distance", "predict_tags", "tagger", "token_accuracy"]

KINDS = (
    "per_token",
    "window",
    "birnn",
    "self_attention",
    "multi_head",
    "distance_decay",
    "truncated",
    "transformer",
    "conformer",
)


def _embed(ids, vocabulary_size, units, embedding):
    """``(B, T, F)`` ids → ``(B, T, units)``: one embedding per feature, concatenated,
    then mixed.
    """
    length, features = ids.shape[1], ids.shape[2]
    if embedding == "one_hot":  # a fixed identity table: the lecture's one-hot vectors
        table = layers.Embedding(
            vocabulary_size,
            vocabulary_size,
            embeddings_initializer="identity",
            trainable=False,
            name="embedding",
        )
        per_feature = vocabulary_size
    elif embedding == "learned":
        table = layers.Embedding(vocabulary_size, units, name="embedding")
        per_feature = units
    else:
        raise ValueError(f"embedding must be 'learned' or 'one_hot', got {embedding!r}")
    vectors = layers.Reshape((length, features * per_feature))(table(ids))
    return (
        vectors
        if features == 1 and embedding == "learned"
        else layers.Dense(units, name="mix_features")(vectors)
    )


def _stack(kind, h, mask, units, window, num_heads, num_layers, dropout):
    """``num_layers`` Transformer encoder or Conformer blocks (named ``encoder_n`` /
    ``conformer_n``).
    """
    h = SinusoidalPositionalEncoding()(h)
    for n in range(1, num_layers + 1):
        if kind == "transformer":
            h = TransformerEncoderBlock(
                units, num_heads, 2 * units, dropout=dropout, norm_first=True, name=f"encoder_{n}"
            )(h, mask=mask)
        else:
            h = ConformerBlock(
                units,
                num_heads,
                kernel_size=2 * window + 1,
                ff_expansion=2,
                dropout=dropout,
                name=f"conformer_{n}",
            )(h, mask=mask)
    return (
        layers.LayerNormalization(epsilon=1e-5, name="encoder_norm")(h)
        if kind == "transformer"
        else h
    )


def _context(kind, h, mask, units, window, num_heads, rnn, num_layers=2, dropout=0.0):
    """The layer that lets a token see others; returns the context vectors ``(B, T, ·)``."""
    if kind == "per_token":
        return None
    if kind == "window":
        return layers.Conv1D(
            units, 2 * window + 1, padding="same", activation="relu", name="window"
        )(h)
    if kind == "birnn":
        cell = {"lstm": layers.LSTM, "gru": layers.GRU}[rnn](units // 2, return_sequences=True)
        return layers.Bidirectional(cell, name="birnn")(h, mask=mask)
    if kind == "self_attention":
        return SelfAttention(units, name="attention")(h, mask=mask)
    if kind == "truncated":
        return SelfAttention(units, window=window, name="attention")(h, mask=mask)
    if kind == "multi_head":
        return MultiHeadSelfAttention(units, num_heads, name="attention")(
            SinusoidalPositionalEncoding()(h), mask=mask
        )
    if kind == "distance_decay":  # the decay is relative only: positions still come from PE
        return DistanceDecayAttention(units, num_heads, name="attention")(
            SinusoidalPositionalEncoding()(h), mask=mask
        )
    if kind in ("transformer", "conformer"):
        return _stack(kind, h, mask, units, window, num_heads, num_layers, dropout)
    raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")


def tagger(
    kind,
    vocabulary_size,
    num_tags,
    length,
    num_features=1,
    units=64,
    window=2,
    num_heads=4,
    rnn="lstm",
    embedding="learned",
    dropout=0.0,
    num_layers=2,
    name=None,
):
    """A tagger of the given ``kind`` (see the module table).

    Args:
        kind: one of ``KINDS``.
        vocabulary_size, num_tags: sizes of the feature and tag vocabularies (both include padding).
        length, num_features: the input shape ``(length, num_features)``.
        units: embedding and hidden units.
        window: the half units ``k`` of ``window`` and ``truncated`` taggers, and of the
            ``conformer``'s depthwise convolution (``2k + 1`` taps).
        num_heads: heads of ``multi_head``, ``distance_decay``, ``transformer`` and ``conformer``.
        rnn: ``"lstm"`` or ``"gru"`` for ``birnn``.
        embedding: ``"learned"`` or ``"one_hot"`` (a fixed identity table).
        dropout: dropout rate on the token vectors and the hidden layer (training only), and inside
            the ``transformer`` / ``conformer`` blocks.
        num_layers: blocks of ``transformer`` and ``conformer``.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    if rnn not in ("lstm", "gru"):
        raise ValueError(f"rnn must be 'lstm' or 'gru', got {rnn!r}")
    ids = keras.Input((length, num_features), dtype="int32", name="ids")
    mask = ops.greater(ids[..., 0], 0)
    h = layers.Dropout(dropout)(_embed(ids, vocabulary_size, units, embedding))
    if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 1:
        raise ValueError(f"num_layers must be a positive integer, got {num_layers!r}")
    context = _context(kind, h, mask, units, window, num_heads, rnn, num_layers, dropout)
    if context is not None:  # the token itself and what it gathered from the others
        h = layers.Concatenate()([h, context])
    h = layers.Dropout(dropout)(layers.Dense(units, activation="relu", name="hidden")(h))
    probabilities = layers.Dense(num_tags, activation="softmax", name="tags", dtype="float32")(h)
    return keras.Model(ids, probabilities, name=name or kind)


def predict_tags(model, data, batch_size=256):
    """Predicted tag ids ``(N, T)`` for ``TaggedArrays`` ``data``."""
    batches = [
        model(data.x[i : i + batch_size], training=False) for i in range(0, len(data.x), batch_size)
    ]
    return np.concatenate([np.argmax(keras.ops.convert_to_numpy(b), axis=-1) for b in batches])


def token_accuracy(predicted, data, where=None):
    """The fraction of real tokens (optionally only those ``where`` is True) tagged correctly."""
    keep = data.mask if where is None else data.mask & where
    return float(np.mean(predicted[keep] == data.y[keep])) if keep.any() else float("nan")


def accuracy_by_distance(predicted, data, edges):
    """Token accuracy for each distance bin ``[edges[i], edges[i+1])``: a list of (label, accuracy,
    count).
    """
    rows = []
    for low, high in itertools.pairwise(edges):
        where = (data.distance >= low) & (data.distance < high)
        rows.append(
            (
                f"{low}-{high - 1}" if high - 1 > low else f"{low}",
                token_accuracy(predicted, data, where),
                int((where & data.mask).sum()),
            )
        )
    return rows
