"""Finding the tutorials: every ``tutorials/*.py`` with a literal ``TUTORIAL = {...}`` dict.

The metadata, the ``OPTIONS`` dict and the docstring are read with ``ast`` (no import, no
TensorFlow), so ``mlcourse list``, ``mlcourse run ID --help`` and a bad flag answer at once.
"""

import ast
import dataclasses
import importlib.util
import os
import re
from pathlib import Path

from mlcourse import options

__all__ = ["Tutorial", "discover", "load_main", "load_module", "tutorials_dir"]


@dataclasses.dataclass(frozen=True)
class Tutorial:
    """One tutorial file: its metadata, its options (``OPTIONS``) and its docstring."""

    id: str
    lecture: str
    title: str
    path: Path
    options: dict = dataclasses.field(default_factory=dict, compare=False)
    doc: str = ""
    alone: bool = False  # its verdicts rest on timings: ``run all`` runs nothing beside it

    @property
    def meta(self):
        """The ``TUTORIAL`` dict: id, lecture, title."""
        return {"id": self.id, "lecture": self.lecture, "title": self.title}

    def parse(self, argv):
        """The tutorial's ``options.Config`` from command-line flags (exit 2 on a bad flag)."""
        return options.parse(self.id, self.options, argv, self.doc)

    @property
    def sort_key(self):
        first = re.match(r"\d+", self.lecture)
        return (int(first.group()) if first else 99, self.id)


def tutorials_dir():
    """``$MLCOURSE_TUTORIALS``, else the ``tutorials/`` folder beside the package, else
    ``./tutorials``.
    """
    if os.environ.get("MLCOURSE_TUTORIALS"):
        return Path(os.environ["MLCOURSE_TUTORIALS"])
    beside = Path(__file__).resolve().parents[1] / "tutorials"
    return beside if beside.is_dir() else Path.cwd() / "tutorials"


def _literals(path):
    """The module-level literal ``TUTORIAL`` and ``OPTIONS`` of a file, and its docstring."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if getattr(target, "id", None) in ("TUTORIAL", "OPTIONS"):
                    found[target.id] = ast.literal_eval(node.value)
    return found.get("TUTORIAL"), found.get("OPTIONS", {}), ast.get_docstring(tree) or ""


def discover(directory=None):
    """All tutorials, ordered by lecture then id."""
    found = []
    for path in sorted(Path(directory or tutorials_dir()).glob("*.py")):
        meta, specs, doc = _literals(path)
        if meta:
            try:
                options.check_specs(specs)
            except ValueError as error:
                raise RuntimeError(f"{path.name}: {error}") from None
            alone = bool(meta.get("alone", False))
            found.append(
                Tutorial(meta["id"], str(meta["lecture"]), meta["title"], path, specs, doc, alone)
            )
    ids = [t.id for t in found]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RuntimeError(f"tutorial ids used twice: {duplicates}")
    return sorted(found, key=lambda t: t.sort_key)


def load_module(tutorial):
    """Import a tutorial file (its functions, for a test or a notebook); returns the module."""
    name = "mlcourse_tutorial_" + re.sub(r"\W", "_", tutorial.id)
    spec = importlib.util.spec_from_file_location(name, tutorial.path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_main(tutorial):
    """Import a tutorial file and return its ``main(config)``."""
    return load_module(tutorial).main
