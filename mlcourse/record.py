"""A run's folder and its record, ``run.json``: where a run lives, what it did, who owns it.

Each run gets ``<logdir>/<tutorial>/<YYYYmmdd-HHMMSS>/`` and never writes anywhere else, so runs
never overwrite each other. ``run.json`` (written atomically: a reader never sees half a file)
records the options, the status (``running`` / ``complete`` / ``failed`` / ``interrupted``), every
finished variant, kept results, tables and verdicts.

Who owns a run: the process that holds the lock on its ``.lock`` file (``fcntl.flock``). The
operating system drops the lock when that process ends, however it ends (SIGKILL included), so a
new start with the same options can tell a live run (locked: leave it alone) from a dead one
(unlocked: resume it), and a reused PID can never orphan a run.
"""

import contextlib
import dataclasses
import datetime
import fcntl
import json
import os
import re
from pathlib import Path

from mlcourse.verdicts import tally, verdict_lines

__all__ = [
    "RESUMABLE",
    "RunFolder",
    "RunRecord",
    "complete_lines",
    "complete_run",
    "jsonable",
    "latest_complete",
    "now",
    "run_to_show",
    "slug",
    "write_json",
]

#: Statuses that a new start with the same options continues (killed, interrupted, or failed on an
#: error that has since been fixed). A ``complete`` run is never reopened.
RESUMABLE = ("running", "interrupted", "failed")


def slug(text):
    """A folder name: letters, digits and ``._=-``."""
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", str(text)).strip("_") or "run"


def jsonable(value):
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON-able")


def write_json(path, data):
    """Write ``data`` as JSON atomically (a temporary file, then a rename)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, default=jsonable, ensure_ascii=False))
    os.replace(tmp, path)


def now():
    return datetime.datetime.now().isoformat(timespec="seconds")


@dataclasses.dataclass
class RunRecord:
    """The typed contents of ``run.json``.

    Attributes:
        tutorial: ``{"id", "lecture", "title"}``.
        options: every option's value (``Config.as_dict``).
        fingerprint: the hash of what the run computes (``Config.fingerprint``).
        mode: ``smoke``, ``lecture`` or ``full``.
        status: ``running``, ``complete``, ``failed`` or ``interrupted``.
        variants: ``{variant: {"status", "seconds", "updates", "global_batch"}}`` of finished fits.
        results: values kept by ``Run.result`` (reused when the run resumes).
        tables: ``{title: rows}`` in the order they were written.
        verdicts: ``Verdict.as_dict()`` of every verdict, in order.
        note: the smoke banner in a smoke run (the first key of the file), else empty.
    """

    tutorial: dict
    options: dict
    fingerprint: str
    mode: str
    status: str = "running"
    started: str = dataclasses.field(default_factory=now)
    finished: str = ""
    seconds: float = 0.0
    device: str = ""
    precision: str = ""
    error: str = ""
    note: str = ""
    variants: dict = dataclasses.field(default_factory=dict)
    results: dict = dataclasses.field(default_factory=dict)
    tables: dict = dataclasses.field(default_factory=dict)
    verdicts: list = dataclasses.field(default_factory=list)

    @classmethod
    def load(cls, path):
        """Read ``run.json``; ``ValueError`` if it is not a run record."""
        data = json.loads(Path(path).read_text())
        known = {field.name for field in dataclasses.fields(cls)}
        if not isinstance(data, dict) or not {"tutorial", "fingerprint"} <= set(data):
            raise ValueError(f"{path} is not a run record")
        data.setdefault("options", {})
        data.setdefault("mode", data["options"].get("mode", "lecture"))
        return cls(**{k: v for k, v in data.items() if k in known})

    def save(self, path):
        data = dataclasses.asdict(self)
        ordered = {"note": data.pop("note")} if self.note else {}
        data.pop("note", None)
        write_json(path, {**ordered, **data})


def _records(root):
    """``(folder, record)`` of every readable run under ``root``, newest first."""
    if not Path(root).is_dir():
        return
    for folder in sorted((p for p in Path(root).iterdir() if p.is_dir()), reverse=True):
        try:
            yield folder, RunRecord.load(folder / "run.json")
        except (OSError, ValueError, TypeError):
            continue


def latest_complete(root, fingerprint=None, mode=None):
    """The newest complete run under ``root`` (with this fingerprint and mode, if given):
    ``(folder, record)`` or ``(None, None)``."""
    for folder, record in _records(root):
        if (
            record.status == "complete"
            and fingerprint in (None, record.fingerprint)
            and mode in (None, record.mode)
        ):
            return folder, record
    return None, None


def complete_run(tutorial_id, config):
    """The newest complete run of a tutorial with ``config``'s options, under its log folder:
    ``(folder, record)`` or ``(None, None)``."""
    return latest_complete(Path(config.logdir) / tutorial_id, config.fingerprint())


def run_to_show(tutorial_id, config):
    """The complete run that stands in for running the tutorial again: ``complete_run``, or
    ``(None, None)`` under ``--fresh``."""
    return (None, None) if config.fresh else complete_run(tutorial_id, config)


def complete_lines(head, folder, record, again="--fresh"):
    """What a complete run found, for the terminal instead of running it again: one line naming
    its folder (``head``: the tutorial), then one line a verdict."""
    return [
        f"{head}: already complete with these options in {folder} (ran in "
        f"{record.seconds:.0f} s; {tally(record.verdicts) or 'no verdicts'}); {again} runs it "
        "again.",
        *verdict_lines(record.verdicts),
    ]


class RunFolder:
    """The folder of one run, held (locked) by this process while the run is open.

    ``RunFolder.claim(root, fingerprint)`` resumes the newest unfinished run with that fingerprint
    whose owner is gone, else creates a new folder; ``fresh=True`` always creates one.
    """

    def __init__(self, path, lock):
        self.path, self._lock = Path(path), lock

    @classmethod
    def claim(cls, root, fingerprint, fresh=False):
        """``(RunFolder, previous record or None)``;
        raises ``OSError`` if ``root`` is not writable.
        """
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        if not fresh:
            for folder, record in _records(root):
                if record.fingerprint != fingerprint or record.status not in RESUMABLE:
                    continue
                lock = cls._try_lock(folder)
                if lock is not None:
                    return cls(folder, lock), record
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        for n in range(1000):
            folder = root / (stamp if n == 0 else f"{stamp}-{n}")
            try:
                folder.mkdir()
            except FileExistsError:
                continue
            return cls(folder, cls._try_lock(folder)), None
        raise OSError(f"could not create a new run folder under {root}")

    @staticmethod
    def _try_lock(folder):
        handle = open(Path(folder) / ".lock", "a+")  # noqa: SIM115 (held open while the run lives)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return None
        return handle

    @property
    def record_path(self):
        return self.path / "run.json"

    def variant(self, name):
        """The folder of one trained model (one TensorBoard run), created on first use."""
        folder = self.path / slug(name)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def release(self):
        if self._lock is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None
