"""Finding the tutorials: every ``tutorials/*.py`` with a literal ``TUTORIAL = {...}`` dict.

The metadata is read with ``ast`` (no import, no TensorFlow), so ``mlcourse list`` is instant.
"""

import ast
import dataclasses
import importlib.util
import os
import re
from pathlib import Path

__all__ = ["Tutorial", "discover", "find", "load_main", "tutorials_dir"]


@dataclasses.dataclass(frozen=True)
class Tutorial:
    id: str
    lecture: str
    title: str
    path: Path

    @property
    def sort_key(self):
        first = re.match(r"\d+", self.lecture)
        return (int(first.group()) if first else 99, self.id)


def tutorials_dir():
    """``$MLCOURSE_TUTORIALS``, else the ``tutorials/`` folder beside the package, else ``./tutorials``."""
    if os.environ.get("MLCOURSE_TUTORIALS"):
        return Path(os.environ["MLCOURSE_TUTORIALS"])
    beside = Path(__file__).resolve().parents[1] / "tutorials"
    return beside if beside.is_dir() else Path.cwd() / "tutorials"


def _metadata(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            getattr(t, "id", None) == "TUTORIAL" for t in node.targets
        ):
            return ast.literal_eval(node.value)
    return None


def discover(directory=None):
    """All tutorials, ordered by lecture then id."""
    found = []
    for path in sorted(Path(directory or tutorials_dir()).glob("*.py")):
        meta = _metadata(path)
        if meta:
            found.append(Tutorial(meta["id"], str(meta["lecture"]), meta["title"], path))
    ids = [t.id for t in found]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RuntimeError(f"tutorial ids used twice: {duplicates}")
    return sorted(found, key=lambda t: t.sort_key)


def find(tutorial_id, directory=None):
    """The tutorial with this id, or ``None``."""
    return next((t for t in discover(directory) if t.id == tutorial_id), None)


def load_main(tutorial):
    """Import a tutorial file and return its ``main(argv)``."""
    name = "mlcourse_tutorial_" + re.sub(r"\W", "_", tutorial.id)
    spec = importlib.util.spec_from_file_location(name, tutorial.path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main
