"""The word → lemma baselines of lecture 12."""

import pytest

from mlcourse.models.lemma_baselines import EndingRuleLemmatizer, LongestSuffixStripper, edit_rule

TRAIN = [
    ("evlerde", "ev"),
    ("okullarda", "okul"),
    ("kitabı", "kitap"),
    ("dolabı", "dolap"),
    ("ağacı", "ağaç"),
    ("gel", "gel"),
    ("git", "git"),
    ("su", "su"),
    ("evde", "ev"),
    ("okulda", "okul"),
]


def test_edit_rule_cuts_and_appends():
    assert edit_rule("kitabı", "kitap") == (2, "p")
    assert edit_rule("evlerde", "ev") == (5, "")
    assert edit_rule("gel", "gel") == (0, "")
    assert edit_rule("ed", "et") == (1, "t")


def test_longest_suffix_stripper_cuts_the_longest_known_suffix():
    stripper = LongestSuffixStripper(min_count=1).fit(TRAIN)
    assert stripper.suffixes == {"lerde", "larda", "de", "da"}
    assert stripper.predict(["kedilerde", "masada", "kitabı", "de"]) == [
        "kedi",
        "masa",
        "kitabı",
        "de",
    ]
    assert (
        LongestSuffixStripper(min_count=2).fit(TRAIN).suffixes == set()
    )  # each suffix was seen once
    with pytest.raises(ValueError, match="min_count"):
        LongestSuffixStripper(min_count=0)


def test_ending_rules_apply_the_most_frequent_rule_of_the_longest_known_ending():
    model = EndingRuleLemmatizer(max_ending=3).fit(TRAIN)
    # "-abı" words lost "bı" and gained "p"; "-rde" lost five letters; an unseen ending gets the
    # rule of the empty ending, the most frequent one overall (copy, 3 votes)
    assert model.predict(["sabı", "kedilerde", "xyz"]) == ["sap", "kedi", "xyz"]
    assert model.predict(["ağacı"]) == ["ağaç"]
    with pytest.raises(ValueError, match="max_ending"):
        EndingRuleLemmatizer(max_ending=-1)
