"""A synthetic "I saw a saw": the tag of an ambiguous word is decided by a cue far away.

ML2021 L10, sequence labeling. In "I saw a saw" the same word takes two tags, and only the context
says which. Here each sequence holds one *cue* word (``cue:A``, ``cue:B``, …) somewhere, some
*ambiguous* words (``saw0``, ``saw1``, …) whose tag is the cue's class, and *filler* words whose tag
is fixed by the word itself::

    w3 saw1 w17 cue:C w8 saw0 saw1 w5        →   F3 C F2 CUE F3 C C F0

So a per-token model gets fillers right and guesses the ambiguous words (1 in ``num_classes``); a
window model of half width ``k`` gets them right only when the cue is within ``k``; self-attention
can look anywhere. ``distance`` records ``|i − cue|`` for every ambiguous word, so accuracy can be
read as a function of how far away the deciding word is.
"""

import numpy as np

from mlcourse.data.tagged_text import FEATURES, TaggedSentence, Vocabulary, encode

__all__ = ["cue_task", "cue_task_sentences", "cue_task_vocabularies"]


def _check(name, value, low):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")


def cue_task_vocabularies(
    num_classes=4, num_ambiguous_words=4, num_filler_words=40, num_filler_tags=6
):
    """The word and tag vocabularies of the task (no unknown words: every word is listed)."""
    classes = [chr(ord("A") + c) for c in range(num_classes)]
    words = (
        [f"cue:{c}" for c in classes]
        + [f"saw{a}" for a in range(num_ambiguous_words)]
        + [f"w{f}" for f in range(num_filler_words)]
    )
    tags = ["CUE"] + classes + [f"F{t}" for t in range(num_filler_tags)]
    return Vocabulary(FEATURES["word"](word) for word in words), Vocabulary(tags)


def cue_task_sentences(
    num_sequences,
    max_length=32,
    min_length=None,
    num_classes=4,
    num_ambiguous_words=4,
    num_filler_words=40,
    num_filler_tags=6,
    ambiguous_fraction=0.6,
    min_distance=1,
    max_distance=None,
    seed=0,
):
    """Random sequences of the cue task as ``TaggedSentence`` objects (distances in ``heads``'
    place).

    Args:
        num_sequences: how many sequences.
        max_length, min_length: lengths are uniform in ``[min_length, max_length]`` (default
            ``min_length = max_length // 2``).
        num_classes: cue classes (= tags an ambiguous word can take; ≥ 2).
        num_ambiguous_words, num_filler_words, num_filler_tags: vocabulary sizes.
        ambiguous_fraction: the chance that an eligible position holds an ambiguous word.
        min_distance, max_distance: ambiguous words are placed only at ``min ≤ |i − cue| ≤ max``
            (``max_distance=None``: anywhere), which sets how long-range the task is.
        seed: the NumPy seed.

    Returns:
        a list of ``TaggedSentence``; ``sentence.cue_distance`` lists ``|i − cue|`` per word (-1 for
        the cue and the fillers, whose tag does not depend on the context).
    """
    _check("num_sequences", num_sequences, 1)
    _check("max_length", max_length, 2)
    min_length = max_length // 2 if min_length is None else min_length
    _check("min_length", min_length, 2)
    if min_length > max_length:
        raise ValueError(f"min_length must be <= max_length, got {min_length} > {max_length}")
    _check("num_classes", num_classes, 2)
    for name, value in (
        ("num_ambiguous_words", num_ambiguous_words),
        ("num_filler_words", num_filler_words),
        ("num_filler_tags", num_filler_tags),
        ("min_distance", min_distance),
    ):
        _check(name, value, 1)
    if not 0.0 < ambiguous_fraction <= 1.0:
        raise ValueError(f"ambiguous_fraction must be in (0, 1], got {ambiguous_fraction!r}")
    max_distance = max_length if max_distance is None else max_distance
    _check("max_distance", max_distance, min_distance)

    rng = np.random.default_rng(seed)
    classes = [chr(ord("A") + c) for c in range(num_classes)]
    sentences = []
    for _ in range(num_sequences):
        length = int(rng.integers(min_length, max_length + 1))
        cue, cls = int(rng.integers(length)), int(rng.integers(num_classes))
        fillers = rng.integers(num_filler_words, size=length)
        words = [f"w{f}" for f in fillers]
        tags = [f"F{f % num_filler_tags}" for f in fillers]
        distance = [-1] * length
        words[cue], tags[cue] = f"cue:{classes[cls]}", "CUE"
        for i in range(length):
            if min_distance <= abs(i - cue) <= max_distance and rng.random() < ambiguous_fraction:
                words[i], tags[i] = f"saw{rng.integers(num_ambiguous_words)}", classes[cls]
                distance[i] = abs(i - cue)
        sentences.append(TaggedSentence(words, tags, cue_distance=distance))
    return sentences


def cue_task(num_sequences, max_length=32, seed=0, **options):
    """The cue task as padded ``TaggedArrays`` (``distance`` = distance to the cue, -1 elsewhere).

    Takes the arguments of ``cue_task_sentences``; vocabulary sizes are shared with
    ``cue_task_vocabularies`` so that train and test sets made with different seeds agree.
    """
    sizes = {
        k: options[k]
        for k in ("num_classes", "num_ambiguous_words", "num_filler_words", "num_filler_tags")
        if k in options
    }
    vocabulary, tags = cue_task_vocabularies(**sizes)
    sentences = cue_task_sentences(num_sequences, max_length=max_length, seed=seed, **options)
    return encode(sentences, vocabulary, tags, max_length)
