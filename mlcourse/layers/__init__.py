"""Keras layers, one concept a module (ML2021 lecture in each docstring).

Every public module here lists its names in ``__all__``; they are all importable from this package.
"""

from mlcourse._collect import export_all

__all__ = export_all(__name__, __path__, globals())
