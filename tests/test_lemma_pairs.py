"""Word-type (form, lemma) pairs from CoNLL-U for the lecture 12 encoder–decoder."""

import pytest

from mlcourse.data import tagged_text
from mlcourse.data.tagged_text import read_lemma_pairs, turkish_lower

CONLLU = """# sent_id = 1
1-2\tEvdeki\t_\t_\t_\t_\t_\t_\t_\t_
1\tEvde\tev\tNOUN\tNN\t_\t2\tnmod\t_\t_
2\tki\tki\tADJ\tJJ\t_\t0\troot\t_\t_
3\tIsparta'da\tısparta\tPROPN\tNNP\t_\t2\tnmod\t_\tSpaceAfter=No
4\t.\t.\tPUNCT\t.\t_\t2\tp\t_\t_

# sent_id = 2
1\tAçık\taçık\tNOUN\tNN\t_\t2\tig\t_\tSpaceAfter=No
2\tla\t_\tVERB\tVB\t_\t0\troot\t_\t_
3\tevde\tev\tNOUN\tNN\t_\t2\tnmod\t_\t_
4\tevde\tevde\tNOUN\tNN\t_\t2\tnmod\t_\t_
5\tİki\tiki\tNUM\tCD\t_\t2\tnum\t_\t_
6\tevde\tev\tNOUN\tNN\t_\t2\tnmod\t_\t_
"""


def test_turkish_lowercasing_keeps_the_dotless_i():
    assert turkish_lower("Isparta İki IŞIK") == "ısparta iki ışık"


def test_pairs_are_one_per_word_type_with_its_most_frequent_lemma():
    pairs = read_lemma_pairs(CONLLU.splitlines())
    # "Evde", "evde", "evde", "evde" -> lemma "ev" three times, "evde" once; punctuation, "_" lemmas
    # and the multi-word line are skipped
    assert pairs == [
        ("açık", "açık"),
        ("evde", "ev"),
        ("iki", "iki"),
        ("ki", "ki"),
        ("ısparta'da", "ısparta"),
    ]
    cased = dict(read_lemma_pairs(CONLLU.splitlines(), lowercase=False))
    assert cased["Evde"] == "ev" and cased["evde"] == "ev" and "İki" in cased


def test_turkish_pairs_split_by_word_type_leave_test_words_unseen():
    pairs = tagged_text.load_lemma_pairs("web")
    forms = [form for form, _ in pairs]
    assert len(forms) == len(set(forms)) > 5000
    train, test = tagged_text.split(pairs, held_out=0.1, seed=0)
    assert not {f for f, _ in train} & {f for f, _ in test}
    both = tagged_text.load_lemma_pairs("both")
    assert len(both) > len(pairs) and all(lemma != "_" for _, lemma in both)
    with pytest.raises(ValueError, match="part"):
        tagged_text.load_lemma_pairs("news")
