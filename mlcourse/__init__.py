"""mlcourse: the hands-on Keras 3 / TensorBoard companion to the ML2021 course.

Importing ``mlcourse`` is cheap (no TensorFlow: ``mlcourse list`` and ``--help`` answer at once);
the sub-packages load on first use::

    import mlcourse
    layer = mlcourse.layers.SigmoidSum(8)      # imports Keras here

Saved models load after ``import mlcourse``: every mlcourse layer, optimizer, schedule and loss is
registered with Keras as soon as Keras itself is imported (at once if it already was), so
``keras.saving.load_model("model.keras")`` finds them, in safe mode too.
"""

import importlib
import importlib.abc
import importlib.util
import pkgutil
import sys

__version__ = "0.1.0"

__all__ = ["PUBLIC_MODULES", "load_all"]

#: Sub-packages that register public Keras objects.
PUBLIC_MODULES = ("layers", "optimizers", "schedules", "losses")


def __getattr__(name):
    """``mlcourse.<sub-package>`` imports it on first use."""
    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | {m.name for m in pkgutil.iter_modules(__path__)})


def load_all():
    """Import every public sub-package, registering its Keras objects; returns the modules."""
    return [importlib.import_module(f"{__name__}.{name}") for name in PUBLIC_MODULES]


class _RegisterAfterKeras(importlib.abc.MetaPathFinder):
    """Runs ``load_all()`` right after ``keras`` finishes importing (once), so ``import mlcourse``
    alone makes saved models loadable without importing TensorFlow itself."""

    def find_spec(self, name, path=None, target=None):
        if name != "keras":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        execute = spec.loader.exec_module

        def exec_module(module):
            execute(module)
            load_all()

        spec.loader.exec_module = exec_module
        return spec


if "keras" in sys.modules:
    load_all()
elif not any(isinstance(finder, _RegisterAfterKeras) for finder in sys.meta_path):
    sys.meta_path.insert(0, _RegisterAfterKeras())
