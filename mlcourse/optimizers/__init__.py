"""Optimizers of ML2021 lectures 5-6, all on one small shared base.

Every public module here lists its names in ``__all__``; they are all importable from this package.
"""

from mlcourse._collect import export_all

__all__ = export_all(__name__, __path__, globals())
