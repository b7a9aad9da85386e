"""Seeded, stratified, nested training subsets for learning curves ("how much data does a model
need?").

ML2021 L11 ("self-attention needs more data than a CNN") and L04/L05 (model bias vs. overfitting):
to compare models across data budgets, every model must see the *same* images at each budget, each
class in its proportion, and a bigger budget must contain the smaller one (10 % ⊂ 30 % ⊂ 100 %), so
that a change in accuracy comes from the added data and not from a different draw.
"""

import math

import numpy as np

__all__ = ["nested_stratified_subsets"]


def nested_stratified_subsets(labels, fractions, seed=0):
    """Indices of nested, class-stratified random subsets of a labelled set.

    Each class is shuffled once (seeded); the subset for fraction ``f`` takes the first
    ``ceil(f · n_c)`` indices of every class ``c``, so subsets are nested and keep the class mix.

    Args:
        labels: ``(N,)`` integer class labels.
        fractions: numbers in (0, 1].
        seed: the random seed.

    Returns:
        ``{fraction: sorted int64 indices}``.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D array, got shape {labels.shape}")
    for fraction in fractions:
        if isinstance(fraction, bool) or not 0 < fraction <= 1:
            raise ValueError(f"fractions must be numbers in (0, 1], got {fraction!r}")
    rng = np.random.default_rng(seed)
    shuffled = [rng.permutation(np.flatnonzero(labels == c)) for c in np.unique(labels)]
    return {
        fraction: np.sort(
            np.concatenate([idx[: math.ceil(fraction * len(idx))] for idx in shuffled])
        )
        for fraction in fractions
    }
