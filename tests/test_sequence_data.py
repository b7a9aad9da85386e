"""The sequence-labeling data: the synthetic cue task, the tagged-text reader, the real corpora."""

import numpy as np
import pytest

from mlcourse.data import tagged_text
from mlcourse.data.files import DataFileError
from mlcourse.data.sequence_labeling import cue_task, cue_task_sentences
from mlcourse.data.tagged_text import (
    TaggedSentence,
    Vocabulary,
    build_vocabularies,
    encode,
    most_frequent_tag_accuracy,
    read_conllu,
    read_slash_tagged,
    split,
)

SLASH = """I/PRP saw/VBD a/DT saw/NN ./.
Mr./NNP Vinken/NNP is/VBZ 61/CD ./.
"""

CONLLU = """# sent_id = 1
# text = Ali geldi.
1\tAli\tAli\tPROPN\tNNP\t_\t2\tnsubj\t_\t_
2-3\tgeldi.\t_\t_\t_\t_\t_\t_\t_\t_
2\tgeldi\tgel\tVERB\tVB\t_\t0\troot\t_\t_
3\t.\t.\tPUNCT\t.\t_\t2\tpunct\t_\t_

# sent_id = 2
1\tBen\tben\tPRON\tPRP\t_\t3\tnsubj\t_\t_
1.1\tx\tx\tX\tX\t_\t_\t_\t_\t_
2\tçok\tçok\tADV\tRB\t_\t3\tadvmod\t_\t_
3\tsevdim\tsev\tVERB\tVB\t_\t0\troot\t_\t_
"""


def test_slash_reader_splits_at_the_last_slash():
    sentences = read_slash_tagged(SLASH.splitlines() + ["1/2/CD"])
    assert sentences[0].words == ["I", "saw", "a", "saw", "."]
    assert sentences[0].tags == ["PRP", "VBD", "DT", "NN", "."]
    assert sentences[2].words == ["1/2"] and sentences[2].tags == ["CD"]
    with pytest.raises(ValueError, match="word/TAG"):
        read_slash_tagged(["no tags here"])


def test_conllu_reader_skips_multiword_and_empty_nodes():
    first, second = read_conllu(CONLLU.splitlines())
    assert first.words == ["Ali", "geldi", "."] and first.tags == ["PROPN", "VERB", "PUNCT"]
    assert first.distances() == [1, -1, 1]
    assert second.words == ["Ben", "çok", "sevdim"] and second.distances() == [2, 1, -1]
    assert read_conllu(CONLLU.splitlines(), tag_column="xpos")[0].tags == ["NNP", "VB", "."]
    with pytest.raises(ValueError, match="tag_column"):
        read_conllu([], tag_column="lemma")


def test_vocabulary_unknown_and_padding():
    vocabulary = Vocabulary.from_counts({"b": 1, "a": 3, "c": 3}, min_count=2)
    assert vocabulary.tokens == ["<pad>", "<unk>", "a", "c"]
    assert vocabulary.index("c") == 3 and vocabulary.index("zzz") == 1


def test_encode_pads_masks_and_splits_long_sentences():
    train = read_slash_tagged(SLASH.splitlines())
    vocabulary, tags = build_vocabularies(train, features=("word", "suffix", "shape"), min_count=2)
    data = encode(
        train + [TaggedSentence(["Unseen"], ["NN"])],
        vocabulary,
        tags,
        max_length=4,
        features=("word", "suffix", "shape"),
    )
    assert data.x.shape == (5, 4, 3)  # 5 + 5 tokens in pieces of 4 -> 2 + 2 rows, plus one
    np.testing.assert_array_equal(data.mask.sum(1), [4, 1, 4, 1, 1])
    assert data.x[4, 0, 0] == 1  # unknown word
    assert vocabulary.tokens[data.x[1, 0, 2]] == "h:."  # shape feature of "."
    assert vocabulary.tokens[data.x[0, 1, 0]] == "w:saw"  # "saw" is seen twice, so kept
    assert data.words(0) == ["<unk>", "saw", "<unk>", "saw"]
    assert (data.x[~data.mask] == 0).all() and (data.y[~data.mask] == 0).all()
    assert tags.tokens[data.y[0, 1]] == "VBD" and tags.tokens[data.y[0, 3]] == "NN"


def test_most_frequent_tag_baseline():
    train = read_slash_tagged(["a/X a/X a/Y b/Z"])
    test = read_slash_tagged(
        ["a/X a/Y c/X"]
    )  # a -> X (right, wrong); unknown c -> X (overall most frequent)
    assert most_frequent_tag_accuracy(train, test) == pytest.approx(2 / 3)


def test_split_is_seeded_and_disjoint():
    items = list(range(50))
    train, held = split(items, held_out=0.2, seed=3)
    assert (len(train), len(held)) == (40, 10) and sorted(train + held) == items
    assert split(items, 0.2, seed=3) == (train, held) and split(items, 0.2, seed=4) != (train, held)
    with pytest.raises(ValueError, match="held_out"):
        split(items, held_out=1.0)


# --- the synthetic cue task ---------------------------------------------------------------------


def test_cue_decides_the_ambiguous_tags():
    for sentence in cue_task_sentences(200, max_length=20, seed=1):
        cues = [i for i, w in enumerate(sentence.words) if w.startswith("cue:")]
        assert len(cues) == 1
        cls = sentence.words[cues[0]].split(":")[1]
        for i, (word, tag) in enumerate(zip(sentence.words, sentence.tags, strict=True)):
            if word.startswith("saw"):
                assert tag == cls and sentence.cue_distance[i] == abs(i - cues[0])
            elif word.startswith("w"):
                assert tag == f"F{int(word[1:]) % 6}" and sentence.cue_distance[i] == -1


def test_cue_task_distance_range_and_seed():
    data = cue_task(300, max_length=24, seed=5, min_distance=4, max_distance=9)
    near = data.distance[data.distance >= 0]
    assert near.min() >= 4 and near.max() <= 9 and len(near) > 300
    again = cue_task(300, max_length=24, seed=5, min_distance=4, max_distance=9)
    np.testing.assert_array_equal(data.x, again.x)
    assert not np.array_equal(data.x, cue_task(300, max_length=24, seed=6).x)
    assert (data.x[data.mask] > 1).all(), "the task has no unknown words"


def test_a_window_cannot_see_far_cues():
    """Ambiguous words with the same window of words (±2) but different tags exist: only far context
    decides.
    """
    data = cue_task(400, max_length=24, seed=0, min_distance=3)
    padded = np.pad(data.x[..., 0], ((0, 0), (2, 2)))
    seen = {}
    conflicts = 0
    for n, t in zip(*np.nonzero(data.distance >= 3), strict=True):
        key = tuple(padded[n, t : t + 5])
        conflicts += seen.setdefault(key, data.y[n, t]) != data.y[n, t]
    assert conflicts > 0


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"max_length": 1}, "max_length"),
        ({"num_classes": 1}, "num_classes"),
        ({"min_length": 40}, "min_length"),
        ({"ambiguous_fraction": 0.0}, "ambiguous_fraction"),
        ({"min_distance": 5, "max_distance": 2}, "max_distance"),
    ],
)
def test_cue_task_bad_arguments(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        cue_task_sentences(5, **kwargs)


# --- the real corpora (prepared at set-up by `mlcourse data prepare --download`) -----------------


def test_missing_corpus_names_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("MLCOURSE_DATA", str(tmp_path))
    with pytest.raises(DataFileError, match="mlcourse data prepare --download"):
        tagged_text.load_wsj()
    with pytest.raises(DataFileError, match="mlcourse data prepare"):
        tagged_text.prepare(allow_download=False)
    (tmp_path / "wsj").mkdir()
    (tmp_path / "wsj" / "tagged-en-wsj.txt").write_text("Pierre/NNP\n")
    with pytest.raises(DataFileError, match="checksum"):
        tagged_text.load_wsj()


def test_real_corpora_as_prepared():
    """Needs `mlcourse data prepare --download` to have run (set-up does it); fails otherwise."""
    wsj = tagged_text.load_wsj()
    assert len(wsj) == 1001 and sum(len(s.words) for s in wsj) == 25026
    assert wsj[0].words[:2] == ["Pierre", "Vinken"] and wsj[0].tags[:2] == ["NNP", "NNP"]
    web = tagged_text.load_turkish("web")
    assert len(web) == 2541
    tags = {t for s in web for t in s.tags}
    assert {"NOUN", "VERB", "PUNCT"} <= tags and len(tags) == 14
    heads_ok = all(0 <= h <= len(s.words) for s in web for h in s.heads)
    assert heads_ok and sum(h == 0 for s in web for h in s.heads) >= len(web)
