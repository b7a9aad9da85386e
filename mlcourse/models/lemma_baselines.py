"""Simple word → lemma baselines for the lecture 12 Transformer (ML2021 L12).

A learned model is only interesting next to what a few lines of counting do:

* copy: the lemma is the word itself (right for uninflected words);
* ``LongestSuffixStripper``: cut the longest suffix seen in training (``evlerde`` → ``ev`` +
  ``lerde``);
* ``EndingRuleLemmatizer``: for the longest word ending seen in training, apply its most frequent
  edit rule "cut k letters, append s" (so ``kuyruğa`` → ``kuyruk`` via the rule of ``-ğa`` words).

Both are fitted on the training pairs only, with ``fit(pairs)``, and used with ``predict(words)``.
"""

import collections

from mlcourse.validation import check_non_negative_int, check_positive_int

__all__ = ["EndingRuleLemmatizer", "LongestSuffixStripper", "edit_rule"]


def edit_rule(word, lemma):
    """The rule ``(cut, append)`` that turns ``word`` into ``lemma``: drop ``cut`` final letters,
    add ``append``.
    """
    common = 0
    while common < min(len(word), len(lemma)) and word[common] == lemma[common]:
        common += 1
    return len(word) - common, lemma[common:]


class LongestSuffixStripper:
    """Strip the longest suffix that training words lost on the way to their lemma.

    A training pair whose lemma is a proper prefix of its word contributes that suffix. At test
    time the longest known suffix (seen ``min_count`` times or more) that leaves at least
    ``min_stem`` letters is cut; a word with none is copied.
    """

    def __init__(self, min_count=2, min_stem=2):
        self.min_count = check_positive_int("min_count", min_count)
        self.min_stem = check_non_negative_int("min_stem", min_stem)
        self.suffixes = set()

    def fit(self, pairs):
        counts = collections.Counter(
            word[len(lemma) :]
            for word, lemma in pairs
            if len(lemma) < len(word) and word.startswith(lemma)
        )
        self.suffixes = {suffix for suffix, n in counts.items() if n >= self.min_count}
        return self

    def predict(self, words):
        out = []
        for word in words:
            cuts = [
                k for k in range(len(word) - self.min_stem, 0, -1) if word[-k:] in self.suffixes
            ]
            out.append(word[: len(word) - cuts[0]] if cuts else word)
        return out


class EndingRuleLemmatizer:
    """Apply the most frequent edit rule of the longest word ending seen in training.

    Every training word votes, for each of its endings of 0 … ``max_ending`` letters, for its
    ``edit_rule``. A test word looks up its longest ending with votes and applies the winner (ties:
    the shorter cut, then alphabetical); a rule that would cut more than the word is not applied.
    """

    def __init__(self, max_ending=5):
        self.max_ending = check_non_negative_int("max_ending", max_ending)
        self.rules = {}

    def fit(self, pairs):
        votes = collections.defaultdict(collections.Counter)
        for word, lemma in pairs:
            rule = edit_rule(word, lemma)
            for k in range(min(self.max_ending, len(word)) + 1):
                votes[word[len(word) - k :]][rule] += 1
        self.rules = {
            ending: min(counter.items(), key=lambda item: (-item[1], item[0]))[0]
            for ending, counter in votes.items()
        }
        return self

    def predict(self, words):
        out = []
        for word in words:
            for k in range(min(self.max_ending, len(word)), -1, -1):
                rule = self.rules.get(word[len(word) - k :])
                if rule is not None and rule[0] <= len(word):
                    out.append(word[: len(word) - rule[0]] + rule[1])
                    break
            else:
                out.append(word)
        return out
