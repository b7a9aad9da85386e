"""mlcourse: the hands-on Keras 3 / TensorBoard companion to the ML2021 course.

Importing ``mlcourse`` is cheap (no TensorFlow); the sub-packages load on first use::

    import mlcourse
    layer = mlcourse.layers.SigmoidSum(8)      # imports Keras here

``load_all()`` imports every public sub-package so that every layer, optimizer, schedule and loss
is registered with Keras (needed before ``keras.saving.load_model`` of a model that uses them).
"""

import importlib

__version__ = "0.1.0"

#: Sub-packages that register public Keras objects.
PUBLIC_MODULES = ("layers", "optimizers", "schedules", "losses")
_LAZY = PUBLIC_MODULES + ("analysis", "callbacks", "data", "distribute", "runner", "cli")


def __getattr__(name):
    if name in _LAZY:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_all():
    """Import every public sub-package that exists, registering its Keras objects."""
    loaded = []
    for name in PUBLIC_MODULES:
        try:
            loaded.append(importlib.import_module(f"{__name__}.{name}"))
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{name}":
                raise
    return loaded
