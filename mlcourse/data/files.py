"""Where data lives and how it is checked: the cache folder and SHA-256 verification.

No code path downloads from the open internet at run time. A loader names the files it needs with
their SHA-256; ``verify`` refuses a missing, truncated or altered file with one line that says how
to get a good copy.
"""

import hashlib
import os
from pathlib import Path

__all__ = [
    "CorruptDataFile",
    "DataFileError",
    "MissingDataFile",
    "cache_dir",
    "sha256_of",
    "verify",
]


class DataFileError(RuntimeError):
    """A data file is missing or fails its checksum. The message says how to fix it."""

    #: The one word ``mlcourse data check`` prints for it.
    status = "MISSING"


class MissingDataFile(DataFileError):
    """The file is not there."""


class CorruptDataFile(DataFileError):
    """The file is there but its SHA-256 is not the expected one (truncated or altered)."""

    status = "CORRUPT"


def cache_dir(*parts):
    """The mlcourse data cache: ``$MLCOURSE_DATA`` if set, else ``~/.cache/mlcourse``."""
    root = Path(os.environ.get("MLCOURSE_DATA") or Path.home() / ".cache" / "mlcourse")
    return root.joinpath(*parts)


def sha256_of(path, chunk_size=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path, expected_sha256, how_to_get):
    """Return ``Path(path)`` if it exists and has the expected SHA-256, else raise
    ``DataFileError``.

    Args:
        path: the file.
        expected_sha256: its hex digest.
        how_to_get: a short instruction, e.g.
            ``"run `make setup` (apt-get install dataset-fashion-mnist)"``.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingDataFile(f"missing data file {path}: {how_to_get}")
    actual = sha256_of(path)
    if actual != expected_sha256:
        raise CorruptDataFile(
            f"checksum mismatch for {path} (sha256 {actual[:12]}…, expected "
            f"{expected_sha256[:12]}…; the file is corrupt or truncated): delete it and "
            f"{how_to_get}"
        )
    return path
