"""Fashion-MNIST (Xiao et al., 2017): 60k training and 10k test images of clothes, 28×28 grey.

Used from lecture 3 on. Offline: the four IDX files are looked for, in order, in ``$MLCOURSE_DATA``
(or ``~/.cache/mlcourse``)``/fashion-mnist``, the Keras cache ``~/.keras/datasets/fashion-mnist``
and the Debian package's ``/usr/share/datasets/fashion-mnist``
(``apt-get install dataset-fashion-mnist``). Each file's SHA-256 is checked before it is read.
``prepare(allow_download=True)`` is the only code that may fetch (through ``keras.datasets``, at
set-up time, where there is internet).
"""

import dataclasses
import gzip
import os
from pathlib import Path

import numpy as np

from mlcourse.data.files import DataFileError, MissingDataFile, cache_dir, verify

__all__ = ["CLASS_NAMES", "FILES", "Split", "find_dir", "load", "prepare", "split"]

CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

FILES = {  # name: SHA-256
    "train-images-idx3-ubyte.gz": (
        "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7"
    ),
    "train-labels-idx1-ubyte.gz": (
        "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056"
    ),
    "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
}

HOW_TO_GET = (
    "run `make setup` (Debian/Ubuntu: `sudo apt-get install dataset-fashion-mnist`; "
    "elsewhere `mlcourse data prepare --download`)"
)


#: Where Debian's ``dataset-fashion-mnist`` package puts the files.
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")


def candidate_dirs():
    """The folders searched for the IDX files, first match wins."""
    dirs = [cache_dir("fashion-mnist"), Path.home() / ".keras" / "datasets" / "fashion-mnist"]
    if os.environ.get("KERAS_HOME"):
        dirs.insert(1, Path(os.environ["KERAS_HOME"]) / "datasets" / "fashion-mnist")
    dirs.append(DEBIAN_DIR)
    return dirs


def find_dir():
    """The first candidate folder holding all four files (checksums are checked by ``load``)."""
    for directory in candidate_dirs():
        if all((directory / name).is_file() for name in FILES):
            return directory
    searched = ", ".join(str(d) for d in candidate_dirs())
    raise MissingDataFile(f"Fashion-MNIST not found (searched {searched}): {HOW_TO_GET}")


def _read_idx(path, offset):
    with gzip.open(path, "rb") as handle:
        return np.frombuffer(handle.read(), np.uint8, offset=offset)


def load(directory=None):
    """Load Fashion-MNIST.

    Args:
        directory: a folder with the four ``*-ubyte.gz`` files; default: searched as the module
            says.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images ``(N, 28, 28)`` and uint8 labels
        ``(N,)``.
    """
    directory = Path(directory) if directory else find_dir()
    paths = {name: verify(directory / name, digest, HOW_TO_GET) for name, digest in FILES.items()}
    x_train = _read_idx(paths["train-images-idx3-ubyte.gz"], 16).reshape(-1, 28, 28)
    y_train = _read_idx(paths["train-labels-idx1-ubyte.gz"], 8)
    x_test = _read_idx(paths["t10k-images-idx3-ubyte.gz"], 16).reshape(-1, 28, 28)
    y_test = _read_idx(paths["t10k-labels-idx1-ubyte.gz"], 8)
    return (x_train, y_train), (x_test, y_test)


def prepare(allow_download=False):
    """Check the files are there and intact; optionally fetch them with ``keras.datasets``.

    Returns the folder used. Raises ``DataFileError`` when they are missing and no download was
    allowed.
    """
    try:
        directory = find_dir()
    except DataFileError:
        if not allow_download:
            raise
        import keras

        keras.datasets.fashion_mnist.load_data()  # fills ~/.keras/datasets/fashion-mnist
        directory = find_dir()
    for name, digest in FILES.items():
        verify(directory / name, digest, HOW_TO_GET)
    return directory


@dataclasses.dataclass(frozen=True)
class Split:
    """Training, validation and test images, each an ``(x, y)`` pair (float32 in [0, 1], labels)."""

    train: tuple
    validation: tuple
    test: tuple

    def __iter__(self):  # (train, validation, test) = split(...)
        return iter((self.train, self.validation, self.test))


SHAPES = ("image", "channel", "flat")


def split(train, validation, test=None, shape="image", seed=None, directory=None):
    """The one way the tutorials cut Fashion-MNIST: disjoint training and validation images from
    the 60k training set, test images from the 10k test set.

    Args:
        train: how many training images (the first ones, after the seeded shuffle if any).
        validation: how many validation images (the last ones of the training set; 0: none).
        test: how many test images (the first ones), ``None`` for all 10,000.
        shape: ``"image"`` (N, 28, 28), ``"channel"`` (N, 28, 28, 1) or ``"flat"`` (N, 784).
        seed: shuffle the 60k training images with this seed first (``None``: file order).

    Returns:
        A ``Split``.
    """
    for name, value, low in (("train", train, 1), ("validation", validation, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if train + validation > 60000:
        raise ValueError(f"train + validation must be at most 60000, got {train} + {validation}")
    if test is not None and (
        isinstance(test, bool) or not isinstance(test, int) or not 1 <= test <= 10000
    ):
        raise ValueError(f"test must be an integer in [1, 10000] or None, got {test!r}")
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {SHAPES}, got {shape!r}")
    (x, y), (x_test, y_test) = load(directory)
    order = np.arange(len(x)) if seed is None else np.random.default_rng(seed).permutation(len(x))
    chosen = {"train": order[:train], "validation": order[len(x) - validation :]}
    target = {"image": (28, 28), "channel": (28, 28, 1), "flat": (784,)}[shape]

    def scaled(images):
        return images.reshape((len(images), *target)).astype("float32") / 255.0

    test = slice(None) if test is None else slice(0, test)
    return Split(
        (scaled(x[chosen["train"]]), y[chosen["train"]]),
        (scaled(x[chosen["validation"]]), y[chosen["validation"]]),
        (scaled(x_test[test]), y_test[test]),
    )
