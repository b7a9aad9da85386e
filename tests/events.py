"""TensorBoard event files read back with TensorBoard's own reader, for the tests.

``values`` gives every summary value by tag; ``scalars``, ``texts`` and ``tags`` are the views the
tests need. The reader is ``EventFileLoader`` (what TensorBoard's backend uses, with its data
migrations), so a test sees what the board sees.
"""

from pathlib import Path

from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
from tensorboard.compat.proto import types_pb2
from tensorboard.util import tensor_util


def event_files(folder, recursive=True):
    """The event files under ``folder`` (and its subfolders unless ``recursive`` is False);
    ``folder`` may also be one event file."""
    pattern = "events.out.tfevents.*"
    folder = Path(folder)
    if folder.is_file():
        return [folder]
    return sorted(folder.rglob(pattern) if recursive else folder.glob(pattern))


def values(folder, recursive=True):
    """``{tag: [(step, summary value), ...]}`` over the event files under ``folder``."""
    found = {}
    for path in event_files(folder, recursive):
        for event in EventFileLoader(str(path)).Load():
            for value in event.summary.value:
                found.setdefault(value.tag, []).append((event.step, value))
    return found


def scalar(value):
    """The number held by one summary value (a v2 tensor or a v1 ``simple_value``)."""
    if value.HasField("tensor"):
        return float(tensor_util.make_ndarray(value.tensor))
    return float(value.simple_value)


def scalars(folder, recursive=True):
    """``{tag: [(step, float), ...]}`` for the values that hold one number."""
    return {
        tag: [(step, scalar(v)) for step, v in found]
        for tag, found in values(folder, recursive).items()
        if all(_is_scalar(v) for _, v in found)
    }


def texts(folder, recursive=False):
    """``{tag: the last text}`` for the text-plugin summaries under ``folder``."""
    found = {}
    for tag, written in values(folder, recursive).items():
        plugins = {v.metadata.plugin_data.plugin_name for _, v in written} - {""}
        if plugins == {"text"}:
            found[tag] = tensor_util.make_ndarray(written[-1][1].tensor).item().decode()
    return found


def tags(folder, recursive=True):
    """Every tag written under ``folder``."""
    return set(values(folder, recursive))


def _is_scalar(value):
    if value.HasField("tensor"):
        return value.tensor.dtype != types_pb2.DT_STRING and not value.tensor.tensor_shape.dim
    return value.HasField("simple_value")
