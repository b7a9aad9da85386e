"""Learning curves (test accuracy against the amount of training data) and what they say about a
claim.

ML2021 L11: "self-attention is more flexible than a CNN (a CNN is self-attention restricted to a
receptive field), so it overfits on little data and needs more data to do well". Measured, the claim
becomes: the flexible model's deficit against the CNN is larger on a small training set than on a
large one. ``data_hunger_verdict`` decides that from the numbers, with the test set's sampling noise
(a binomial standard error per accuracy) as the yardstick, and says "supported", "contradicted" or
"inconclusive" — never more than the numbers carry.
"""

import math

from matplotlib.figure import Figure

__all__ = ["accuracy_standard_error", "data_hunger_verdict", "plot_learning_curves"]


def accuracy_standard_error(accuracy, count):
    """The binomial standard error ``sqrt(p (1 − p) / n)`` of an accuracy ``p`` measured on ``n``
    examples.
    """
    if not 0 <= accuracy <= 1:
        raise ValueError(f"accuracy must be in [0, 1], got {accuracy!r}")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a positive integer, got {count!r}")
    return math.sqrt(accuracy * (1 - accuracy) / count)


def data_hunger_verdict(accuracy, baseline, challenger, test_count, z=2.0):
    """Does ``challenger`` need more data than ``baseline``? Decided from two learning curves.

    With ``gap(f) = acc_baseline(f) − acc_challenger(f)`` at the smallest and the largest training
    fraction, ``shrink = gap(small) − gap(large)`` is how much of its deficit the challenger makes
    up when given more data. Its noise is ``σ = sqrt(Σ se²)`` over the four accuracies (binomial, on
    ``test_count`` test examples; one training seed, so seed-to-seed variation is not included).

    * ``"supported"``: the challenger trails on the small set (``gap(small) > z σ_small``) and the
      gap shrinks (``shrink > z σ``);
    * ``"contradicted"``: the gap grows (``shrink < −z σ``), or the challenger is ahead on the
      small set by more than ``z σ_small``;
    * ``"inconclusive"``: anything else (differences within the noise).

    Args:
        accuracy: ``{model: {fraction: test accuracy}}``.
        baseline, challenger: two keys of ``accuracy``.
        test_count: the number of test examples behind each accuracy.
        z: how many standard errors count as a difference.

    Returns:
        A dict: ``verdict``, ``small``, ``large`` (the fractions), ``gap_small``, ``gap_large``,
        ``shrink``, ``noise`` (σ of ``shrink``), ``overtakes`` (challenger ahead by more than
        ``z σ_large`` on the large set).
    """
    for name in (baseline, challenger):
        if name not in accuracy:
            raise ValueError(
                f"baseline and challenger must be keys of accuracy {sorted(accuracy)}, got {name!r}"
            )
    fractions = sorted(set(accuracy[baseline]) & set(accuracy[challenger]))
    if len(fractions) < 2:
        raise ValueError(f"accuracy needs both models at two or more fractions, got {fractions}")
    small, large = fractions[0], fractions[-1]
    se = {
        (m, f): accuracy_standard_error(accuracy[m][f], test_count)
        for m in (baseline, challenger)
        for f in (small, large)
    }
    gap_small = accuracy[baseline][small] - accuracy[challenger][small]
    gap_large = accuracy[baseline][large] - accuracy[challenger][large]
    noise_small = math.hypot(se[baseline, small], se[challenger, small])
    noise_large = math.hypot(se[baseline, large], se[challenger, large])
    noise = math.hypot(noise_small, noise_large)
    shrink = gap_small - gap_large
    if gap_small > z * noise_small and shrink > z * noise:
        verdict = "supported"
    elif shrink < -z * noise or gap_small < -z * noise_small:
        verdict = "contradicted"
    else:
        verdict = "inconclusive"
    return {
        "verdict": verdict,
        "small": small,
        "large": large,
        "gap_small": gap_small,
        "gap_large": gap_large,
        "shrink": shrink,
        "noise": noise,
        "overtakes": gap_large < -z * noise_large,
    }


def plot_learning_curves(accuracy, test_count=None, title="Test accuracy vs. training data"):
    """A figure: one line per model, test accuracy against the training fraction (log x axis).

    With ``test_count`` each point gets a ±2 standard-error bar (binomial, test-set noise only).
    """
    figure = Figure(figsize=(6, 4))
    axis = figure.subplots()
    for name, curve in accuracy.items():
        fractions = sorted(curve)
        values = [curve[f] for f in fractions]
        errors = (
            [2 * accuracy_standard_error(v, test_count) for v in values] if test_count else None
        )
        axis.errorbar(fractions, values, yerr=errors, marker="o", capsize=3, label=name)
    axis.set_xscale("log")
    ticks = sorted({f for curve in accuracy.values() for f in curve})
    axis.set_xticks(ticks, [f"{f:.0%}" for f in ticks])
    axis.minorticks_off()
    axis.set(
        xlabel="fraction of the training set (log scale)",
        ylabel="test accuracy",
        title=title + ("\n(bars: ±2 standard errors of the test set)" if test_count else ""),
    )
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    return figure
