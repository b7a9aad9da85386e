"""Verdicts: the lecture's claim, what this machine measured, and whether the claim held.

A verdict is computed, never typed in. For a claim "A is larger than B" measured over several seeds
(or repeats), ``exceeds(a, b)`` compares the paired differences ``d_i = a_i - b_i``:

* ``holds`` when the seeds agree (``d_i > 0``: every one of up to 5 seeds, 80 % of more) and the
  mean difference clears the spread that was measured: ``mean(d) > z · se``,
  ``se = sqrt(std(d)² / n + noise²)`` (``z = 2``);
* ``does not hold`` when the seeds agree on the opposite and the mean clears the spread that way;
* ``inconclusive`` otherwise: the seeds disagree, or the difference is inside the spread.

``noise`` is a standard error the seeds cannot show (for example the binomial noise of one fixed
test set, ``mlcourse.analysis.data_efficiency.accuracy_standard_error``). A claim that involves no
noise (an exact identity, a deterministic construction) is judged by a plain ``True`` / ``False``.
In a smoke run every verdict reads ``not judged (smoke run)``: its numbers mean nothing.
"""

import dataclasses
import math
import numbers

import numpy as np

__all__ = [
    "tally",
    "verdict_lines",
    "verdict_rows",
    "DOES_NOT_HOLD",
    "HOLDS",
    "INCONCLUSIVE",
    "NOT_JUDGED",
    "OUTCOMES",
    "Comparison",
    "Verdict",
    "all_of",
    "exceeds",
    "outcome_of",
    "spread",
]

HOLDS = "holds"
DOES_NOT_HOLD = "does not hold"
INCONCLUSIVE = "inconclusive"
NOT_JUDGED = "not judged (smoke run)"
OUTCOMES = (HOLDS, DOES_NOT_HOLD, INCONCLUSIVE, NOT_JUDGED)


@dataclasses.dataclass(frozen=True)
class Comparison:
    """The evidence for "a exceeds b": the mean difference, the margin it had to clear, the seeds.

    Attributes:
        difference: ``mean(a) - mean(b)``.
        margin: ``z`` standard errors; the difference must be beyond ``±margin``.
        agreeing: seeds whose own difference has the sign of the mean difference.
        count: seeds (or repeats) compared.
        outcome: ``holds``, ``does not hold`` or ``inconclusive``.
    """

    difference: float
    margin: float
    agreeing: int
    count: int
    outcome: str

    def __str__(self):
        agree = f"{self.agreeing} of {self.count} agree" if self.count > 1 else "n = 1"
        return f"difference {self.difference:+.3g}, margin ±{self.margin:.2g}, {agree}"


def _values(name, values):
    array = np.atleast_1d(np.asarray(values, dtype="float64"))
    if array.ndim != 1 or array.size == 0 or not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be one or more finite numbers, got {values!r}")
    return array


def exceeds(a, b, noise=0.0, z=2.0):
    """Does ``a`` exceed ``b``? ``a`` and ``b`` are per-seed measurements (a scalar ``b`` is a bar).

    Equal lengths are paired (seed ``i`` of ``a`` with seed ``i`` of ``b``); other lengths are
    compared as two groups (standard error of the difference of two means).

    Returns:
        A ``Comparison``.
    """
    a, b = _values("a", a), _values("b", b)
    if not (isinstance(noise, numbers.Real) and math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    if len(a) == len(b) or 1 in (len(a), len(b)):  # paired, or against one bar
        differences = a - b
        count = len(differences)
        seed_error = differences.std(ddof=1) / math.sqrt(count) if count > 1 else 0.0
    else:
        differences = np.array([a.mean() - b.mean()])
        count = min(len(a), len(b))
        seed_error = math.sqrt(
            (a.var(ddof=1) / len(a) if len(a) > 1 else 0.0)
            + (b.var(ddof=1) / len(b) if len(b) > 1 else 0.0)
        )
    mean = float(differences.mean())
    margin = z * math.hypot(seed_error, noise)
    agreeing = int(np.sum(np.sign(differences) == np.sign(mean))) if mean else 0
    if len(differences) == 1:
        agreeing = count if mean else 0
    needed = count if count <= 5 else math.ceil(0.8 * count)
    if mean > margin and agreeing >= needed:
        outcome = HOLDS
    elif mean < -margin and agreeing >= needed:
        outcome = DOES_NOT_HOLD
    else:
        outcome = INCONCLUSIVE
    return Comparison(mean, margin, agreeing, count, outcome)


def all_of(results):
    """One outcome for a claim made of several parts: holds if every part holds, does not hold if
    any part does not hold, inconclusive otherwise."""
    outcomes = [outcome_of(result) for result in results]
    if not outcomes:
        raise ValueError("all_of needs at least one result")
    if all(outcome == HOLDS for outcome in outcomes):
        return HOLDS
    if DOES_NOT_HOLD in outcomes:
        return DOES_NOT_HOLD
    return INCONCLUSIVE


def spread(values, digits=3):
    """``"0.871 ± 0.004"``: the mean and the seed-to-seed standard deviation (one value: itself)."""
    values = _values("values", values)
    if len(values) == 1:
        return f"{values[0]:.{digits}g}"
    return f"{values.mean():.{digits}g} ± {values.std(ddof=1):.2g}"


def outcome_of(result):
    """The outcome of a ``Comparison``, a bool (``True``: holds) or an outcome string."""
    if isinstance(result, Comparison):
        return result.outcome
    if isinstance(result, (bool, np.bool_)):
        return HOLDS if result else DOES_NOT_HOLD
    if result in OUTCOMES:
        return result
    raise ValueError(
        f"a verdict's outcome must be a Comparison, a bool or one of {OUTCOMES}, got {result!r}"
    )


@dataclasses.dataclass(frozen=True)
class Verdict:
    """One claim of the course, judged by one run.

    The keys of ``as_dict`` (``tutorial``, ``lecture``, ``claim``, ``measured``, ``verdict``,
    ``mode``, ``seeds``, ``reason``) are a contract: ``mlcourse report --json`` prints them.
    """

    tutorial: str
    lecture: str
    claim: str
    measured: str
    verdict: str
    mode: str
    seeds: int
    reason: str = ""

    def __post_init__(self):
        if self.verdict not in OUTCOMES:
            raise ValueError(f"verdict must be one of {OUTCOMES}, got {self.verdict!r}")
        if not self.claim or not self.measured:
            raise ValueError("a verdict needs the claim and what was measured")

    def as_dict(self):
        return dataclasses.asdict(self)


def verdict_rows(verdicts):
    """Table rows of verdicts (dicts or ``Verdict``s): lecture, claim, measured, verdict, seeds."""
    rows = []
    for v in verdicts:
        v = v.as_dict() if isinstance(v, Verdict) else v
        verdict = v["verdict"] if not v.get("reason") else f"{v['verdict']}: {v['reason']}"
        rows.append(
            {
                "lecture": v["lecture"],
                "claim": v["claim"],
                "measured": v["measured"],
                "verdict": verdict,
                "seeds": v["seeds"],
            }
        )
    return rows


def tally(verdicts):
    """How many verdicts (dicts) of each outcome, in order of first appearance: "3 holds, 1 ..."."""
    counts = {}
    for verdict in verdicts:
        counts[verdict["verdict"]] = counts.get(verdict["verdict"], 0) + 1
    return ", ".join(f"{n} {outcome}" for outcome, n in counts.items())


def verdict_lines(verdicts):
    """The terminal's line for each verdict (dicts): ``"  [holds] <claim>"``."""
    return [f"  [{verdict['verdict']}] {verdict['claim']}" for verdict in verdicts]
