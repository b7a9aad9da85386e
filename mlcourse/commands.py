"""The ``mlcourse`` command as the user can type it from where they are.

A tutorial or the report that says "run ``mlcourse board``" is wrong when the virtual environment is
not active: the plain name is not on the PATH. ``command(...)`` spells the program the way that
works from the current folder (``mlcourse`` with the venv active, else ``.venv/bin/mlcourse`` or its
full path), and adds ``--logdir`` only when it is not the default.
"""

import os
import sys
from pathlib import Path

from mlcourse.options import default_logdir

__all__ = ["command", "program"]


def program():
    """``mlcourse`` if the venv that runs us is active, else the path of its ``mlcourse`` script."""
    here = Path(sys.executable).parent / "mlcourse"
    active = Path(os.environ.get("VIRTUAL_ENV", "/nonexistent")) / "bin" / "mlcourse"
    if active.exists() and active.resolve() == here.resolve():
        return "mlcourse"
    if not here.exists():  # not installed as a script (e.g. python -m from a checkout)
        return f"{sys.executable} -m mlcourse"
    try:
        return str(here.relative_to(Path.cwd()))
    except ValueError:
        return str(here)


def command(*words, logdir=None):
    """``<program> <words...> [--logdir DIR]`` (``--logdir`` only when it is not the default)."""
    parts = [program(), *map(str, words)]
    if logdir is not None and Path(logdir).resolve() != default_logdir().resolve():
        parts += ["--logdir", str(logdir)]
    return " ".join(parts)
