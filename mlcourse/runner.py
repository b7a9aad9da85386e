"""The tutorial runner: one place for folders, seeds, devices, callbacks, tables and figures.

Every tutorial does the same few things, so they live here::

    with runner.Run(TUTORIAL, args) as run:        # logs/<tutorial>/<timestamp>/, seeded, device chosen
        with run.scope():
            model = ...                            # built inside the tf.distribute strategy
        history = run.fit("variant", model, x, y, epochs=5, validation_data=(xv, yv))
        run.table("Results", rows)                 # terminal + TensorBoard text
        run.figure("predictions", fig)             # PNG + TensorBoard image

Folders: each run gets ``<logdir>/<tutorial>/<YYYYmmdd-HHMMSS>/`` and each trained model a
``<variant>/`` below it; nothing is ever overwritten. ``run.json`` in the run folder records the
arguments, the status (``running`` / ``complete`` / ``failed`` / ``interrupted``) and every finished
variant. A run that was killed (or interrupted) and is started again with the same arguments
continues in its folder: finished variants are reloaded, the unfinished one resumes from its last
epoch through ``keras.callbacks.BackupAndRestore``. So does a run that failed (after you fixed the
cause). ``--fresh`` starts a new folder instead; a ``complete`` run is never reopened.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import datetime  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from mlcourse.distribute import STRATEGIES  # noqa: E402

__all__ = [
    "Run",
    "RunError",
    "cli_main",
    "default_logdir",
    "format_table",
    "nonnegative_int",
    "positive_float",
    "positive_int",
    "tutorial_parser",
]

#: Statuses of a run that a new start with the same arguments continues (killed, interrupted, or an
#: error that has since been fixed); only ``complete`` runs are never touched again.
RESUMABLE = ("running", "interrupted", "failed")

#: Options that do not change what a run computes (a run resumed with another value is the same run).
NOT_IN_FINGERPRINT = ("logdir", "fresh", "verbose")


class RunError(RuntimeError):
    """A run cannot go on. The message says what to do; the CLI prints it and exits 1."""


# ----------------------------------------------------------------------------------------- arguments
def _number(kind, test, allowed):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {allowed}, got {text!r}") from None
        if not test(value):
            raise argparse.ArgumentTypeError(f"expected {allowed}, got {text!r}")
        return value

    parse.__name__ = allowed
    return parse


positive_int = _number(int, lambda v: v > 0, "a positive integer")
nonnegative_int = _number(int, lambda v: v >= 0, "a non-negative integer")
positive_float = _number(float, lambda v: v > 0, "a positive number")


def default_logdir():
    """``$MLCOURSE_LOGDIR``, else the repository's ``logs/`` (when run from a checkout), else ``./logs``."""
    if os.environ.get("MLCOURSE_LOGDIR"):
        return Path(os.environ["MLCOURSE_LOGDIR"])
    repo_logs = Path(__file__).resolve().parents[1] / "logs"
    return repo_logs if (repo_logs / ".keep").exists() else Path.cwd() / "logs"


def tutorial_parser(tutorial, description=None):
    """An ``argparse`` parser with the options every tutorial shares; add the tutorial's own to it."""
    parser = argparse.ArgumentParser(
        prog=f"mlcourse run {tutorial['id']}",
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common = parser.add_argument_group("options every tutorial has")
    common.add_argument("--quick", action="store_true", help="small, fast version (tests and CI)")
    common.add_argument("--seed", type=nonnegative_int, default=0, help="random seed (default 0)")
    common.add_argument(
        "--logdir",
        type=Path,
        default=default_logdir(),
        help="TensorBoard log root (default %(default)s)",
    )
    common.add_argument(
        "--deterministic", action="store_true", help="enable TensorFlow op determinism"
    )
    common.add_argument(
        "--fresh",
        action="store_true",
        help="start a new run folder even if an interrupted run could resume",
    )
    common.add_argument(
        "--strategy", choices=STRATEGIES, default="auto", help="where to train (default auto)"
    )
    common.add_argument(
        "--mixed-precision", action="store_true", help="mixed_float16 (GPU) / mixed_bfloat16 (TPU)"
    )
    common.add_argument(
        "--verbose", type=int, choices=(0, 1, 2), default=2, help="Keras fit verbosity (default 2)"
    )
    return parser


def cli_main(main, argv=None):
    """Run ``main(argv)`` as a script: a ``RunError`` or a data error becomes one line and exit code 1."""
    from mlcourse.data.files import DataFileError

    try:
        main(sys.argv[1:] if argv is None else argv)
    except (RunError, DataFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(1) from None


# ------------------------------------------------------------------------------------------- tables
def _cell(value, digits):
    """Floats with ``digits`` significant digits (whole numbers when larger); anything else as str."""
    if isinstance(value, float) and abs(value) >= 10**digits:
        return f"{value:.0f}"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def format_table(rows, columns=None, digits=4, markdown=False):
    """Format a list of dicts as an aligned text table (or a Markdown table)."""
    columns = list(columns or dict.fromkeys(key for row in rows for key in row))
    cells = [[_cell(row.get(column, ""), digits) for column in columns] for row in rows]
    if markdown:
        lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells])
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    numeric = [
        any(_is_number(row.get(c)) for row in rows)
        and all(_is_number(row.get(c)) or row.get(c) in ("", "-", None) for row in rows)
        for c in columns
    ]
    line = lambda items: "  ".join(
        item.rjust(w) if right else item.ljust(w)  # noqa: E731
        for item, w, right in zip(items, widths, numeric)
    ).rstrip()
    return "\n".join(
        [line(columns), line(["-" * w for w in widths])] + [line(row) for row in cells]
    )


def _is_number(value):
    import numbers

    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def _slug(text):
    """A folder name: letters, digits and ``._=-``."""
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", str(text)).strip("_") or "run"


def _tag(text):
    """A TensorBoard tag: like a folder name, but ``/`` groups tags into sections."""
    return "/".join(_slug(part) for part in str(text).split("/"))


def _pid_alive(pid):
    if not pid or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _jsonable(value):
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):
        return value.item()
    return value


class _EpochRecorder:
    """Keeps a variant's per-epoch metrics in ``history.json`` so a resumed fit returns all epochs."""

    def __init__(self, path):
        import keras

        class Recorder(keras.callbacks.Callback):
            def on_epoch_end(inner, epoch, logs=None):  # noqa: N805
                self.epochs[epoch] = {k: float(v) for k, v in (logs or {}).items()}
                _write_json(path, {str(e): m for e, m in sorted(self.epochs.items())})

        self.path = Path(path)
        saved = json.loads(self.path.read_text()) if self.path.exists() else {}
        self.epochs = {int(e): m for e, m in saved.items()}
        self.callback = Recorder()

    def history(self):
        import keras

        history = keras.callbacks.History()
        history.epoch = sorted(self.epochs)
        for epoch in history.epoch:
            for key, value in self.epochs[epoch].items():
                history.history.setdefault(key, []).append(value)
        return history


def _write_json(path, data):
    """Write JSON atomically: a reader never sees half a file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=_jsonable))
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------- Run
class Run:
    """One run of a tutorial. Use as a context manager; see the module docstring.

    Attributes:
        dir: the run folder.
        quick, seed: from the arguments.
        strategy: the ``tf.distribute.Strategy`` in use.
        resumed: whether this run continues an interrupted one.
    """

    def __init__(self, tutorial, args):
        self.tutorial = dict(tutorial)
        self.id = tutorial["id"]
        self.args = args
        self.quick = bool(getattr(args, "quick", False))
        self.seed = int(getattr(args, "seed", 0))
        self.verbose = getattr(args, "verbose", 2)
        options = {
            k: _jsonable(v) for k, v in sorted(vars(args).items()) if k not in NOT_IN_FINGERPRINT
        }
        self.options = options
        self.fingerprint = hashlib.sha256(
            json.dumps([self.id, options], sort_keys=True).encode()
        ).hexdigest()[:16]
        self.root = Path(getattr(args, "logdir", None) or default_logdir()) / self.id
        if getattr(args, "strategy", None) == "multiworker":
            from mlcourse import distribute

            if not distribute.is_chief():  # the chief logs where a one-machine run would
                self.root = self.root / "{}-{}".format(*distribute.task())
        self.dir = None
        self.state = {}
        self.strategy = None
        self.resumed = False
        self._writer = None
        self._hparams = {}
        self._started = None

    # -- lifecycle
    def __enter__(self):
        import keras

        self._started = time.time()
        self.dir, self.resumed = self._open_folder()
        if self.resumed:
            self.state = json.loads((self.dir / "run.json").read_text())
        else:
            self.state = {
                "tutorial": self.tutorial,
                "options": self.options,
                "fingerprint": self.fingerprint,
                "started": datetime.datetime.now().isoformat(timespec="seconds"),
                "variants": {},
                "seconds": 0.0,
            }
        self.state.update(status="running", pid=os.getpid())
        self.state.pop("error", None)
        self._save_state()
        try:
            self.strategy = (
                self._choose_strategy()
            )  # first: logical devices must be set before any op runs
        except RunError as error:
            self.state.update(status="failed", error=str(error))
            self._save_state()
            raise
        keras.utils.set_random_seed(self.seed)
        if getattr(self.args, "deterministic", False):
            import tensorflow as tf

            tf.config.experimental.enable_op_determinism()
        print(f"[mlcourse] {self.id}: {'resuming' if self.resumed else 'new run'} in {self.dir}")
        return self

    def __exit__(self, exc_type, exc, tb):
        import keras

        self.state["seconds"] = self.state.get("seconds", 0.0) + time.time() - self._started
        if exc_type is None:
            self.text("run/where", self.where())
            self._write_hparams_config()
            self.state["status"] = "complete"
        elif issubclass(exc_type, KeyboardInterrupt):
            self.state["status"] = "interrupted"
        else:
            self.state.update(status="failed", error=f"{exc_type.__name__}: {exc}")
        self.state["finished"] = datetime.datetime.now().isoformat(timespec="seconds")
        with contextlib.suppress(OSError):
            self._save_state()
        if self._writer is not None:
            self._writer.close()
        keras.mixed_precision.set_global_policy("float32")
        if exc_type is None:
            print(
                f"[mlcourse] {self.id}: done in {time.time() - self._started:.1f} s; "
                f"see it with `mlcourse board --logdir {self.root.parent}`"
            )
        return False

    def _open_folder(self):
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / f".write-test-{os.getpid()}"
            probe.write_text("")
            probe.unlink()
        except OSError as error:
            raise RunError(
                f"cannot write logs under {self.root} ({error.strerror or error}): "
                f"pass --logdir DIR with a writable folder, or set MLCOURSE_LOGDIR"
            ) from None
        if not getattr(self.args, "fresh", False):
            for folder in sorted((p for p in self.root.iterdir() if p.is_dir()), reverse=True):
                try:
                    state = json.loads((folder / "run.json").read_text())
                except (OSError, ValueError):
                    continue
                if (
                    state.get("fingerprint") == self.fingerprint
                    and state.get("status") in RESUMABLE
                    and not _pid_alive(state.get("pid"))
                ):
                    return folder, True
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        for n in range(1000):
            folder = self.root / (stamp if n == 0 else f"{stamp}-{n}")
            try:
                folder.mkdir()
                return folder, False
            except FileExistsError:
                continue
        raise RunError(f"could not create a new run folder under {self.root}")

    def _choose_strategy(self):
        import keras

        from mlcourse import distribute

        try:
            chosen = distribute.strategy(getattr(self.args, "strategy", "auto"))
        except RuntimeError as error:  # no such device, or devices configured too late
            raise RunError(str(error)) from None
        self.state["device"] = distribute.describe(chosen)
        if getattr(self.args, "mixed_precision", False):
            keras.mixed_precision.set_global_policy(distribute.mixed_precision_policy(chosen))
            self.state["precision"] = keras.mixed_precision.global_policy().name
        return chosen

    def _save_state(self):
        _write_json(self.dir / "run.json", self.state)

    # -- training
    def scope(self):
        """The strategy's scope: build and compile models inside it."""
        return self.strategy.scope()

    def global_batch(self, per_replica_batch):
        """Scale a per-replica batch size by the number of replicas in sync."""
        return int(per_replica_batch) * self.strategy.num_replicas_in_sync

    def variant_dir(self, variant):
        folder = self.dir / _slug(variant)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def updates(self, variant):
        """How many optimizer updates the variant's training made (all epochs, a resume included)."""
        return self.state["variants"][_slug(variant)]["updates"]

    def is_done(self, variant):
        """Whether ``variant`` already finished in this (resumed) run."""
        return self.state["variants"].get(_slug(variant), {}).get("status") in (
            "complete",
            "diverged",
        )

    def fit(
        self, variant, model, x=None, y=None, *, epochs, callbacks=(), allow_nan=False, **fit_kwargs
    ):
        """``model.fit`` with the runner's callbacks, logged under ``<run>/<variant>/``; returns a History.

        Adds ``TensorBoard``, ``BackupAndRestore`` (resume from the last epoch), a NaN guard that
        suggests a lower learning rate, and a per-update learning-rate logger. A variant finished
        earlier in a resumed run is not trained again: its final weights and history are reloaded.

        Args:
            variant: a name for this model within the run (one folder, one TensorBoard run).
            allow_nan: if False (default) a NaN/Inf loss raises ``RunError``; if True the history is
                returned and ``run.state["variants"][variant]["status"]`` is ``"diverged"``.
            callbacks: extra callbacks (e.g. from ``mlcourse.callbacks``).
            batch_size: per replica. The runner multiplies it by the number of replicas in sync
                (``run.global_batch``), so every device gets this many examples a step; on one
                device nothing changes. The batch used is recorded in ``run.json``.
            Other arguments go to ``model.fit``.
        """
        import keras

        from mlcourse.callbacks.learning_rate import LearningRateLogger
        from mlcourse.callbacks.terminate_on_nan import TerminateOnNaNWithHint

        name = _slug(variant)
        folder = self.variant_dir(name)
        final_weights = folder / "final.weights.h5"
        recorder = _EpochRecorder(folder / "history.json")
        if self.is_done(name) and final_weights.exists():
            if model.optimizer is not None and not model.optimizer.built:
                with self.scope():  # the file holds the optimizer's state too
                    model.optimizer.build(model.trainable_variables)
            model.load_weights(final_weights)
            record = self.state["variants"][name]
            if (
                model.optimizer is not None and "updates" not in record
            ):  # recorded by an older mlcourse
                record["updates"] = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
            print(f"[mlcourse] {name}: finished earlier in this run; reusing its weights")
            return recorder.history()
        guard = TerminateOnNaNWithHint(name)
        runner_callbacks = [
            keras.callbacks.BackupAndRestore(str(folder / "backup")),
            keras.callbacks.TensorBoard(str(folder), write_graph=False),
            LearningRateLogger(folder / "train"),
            guard,
            recorder.callback,
        ]
        started = time.time()
        fit_kwargs.setdefault("verbose", self.verbose)
        if fit_kwargs.get(
            "batch_size"
        ):  # given per replica; each step takes one batch on every replica
            fit_kwargs["batch_size"] = self.global_batch(fit_kwargs["batch_size"])
        try:
            model.fit(
                x, y, epochs=epochs, callbacks=runner_callbacks + list(callbacks), **fit_kwargs
            )
            if guard.diverged and not allow_nan:
                raise RunError(guard.message)
            model.save_weights(final_weights)
        except OSError as error:  # e.g. a full disk while BackupAndRestore writes its checkpoint
            raise RunError(
                f"{name}: could not write under {folder} ({error.strerror or error}); "
                f"free some space or pass --logdir DIR"
            ) from error
        self.state["variants"][name] = {
            "status": "diverged" if guard.diverged else "complete",
            "seconds": round(time.time() - started, 3),
            "updates": int(keras.ops.convert_to_numpy(model.optimizer.iterations)),
            "global_batch": fit_kwargs.get("batch_size"),
        }
        self._save_state()
        return recorder.history()

    def result(self, name, compute):
        """``compute()`` once per run, for work outside ``run.fit`` (evaluations over many draws,
        timings): its result, which must be JSON-able (numbers, strings, lists, dicts), is kept in
        ``run.json``, so a killed run started again reuses it instead of computing it again."""
        results = self.state.setdefault("results", {})
        if name not in results:
            results[name] = json.loads(json.dumps(compute(), default=_jsonable))
            self._save_state()
        else:
            print(f"[mlcourse] {name}: computed earlier in this run; reusing it")
        return results[name]

    # -- reporting
    @property
    def writer(self):
        """A ``tf.summary`` writer for the run folder (run-level text, images, hparams config)."""
        if self._writer is None:
            import tensorflow as tf

            self._writer = tf.summary.create_file_writer(str(self.dir))
        return self._writer

    def table(self, title, rows, columns=None, digits=4):
        """Print a table and write it as TensorBoard text (``summary/<title>``) and to ``summary.md``."""
        import tensorflow as tf

        text = format_table(rows, columns, digits)
        print(f"\n{title}\n{text}\n")
        markdown = format_table(rows, columns, digits, markdown=True)
        with self.writer.as_default():
            tf.summary.text(_tag(f"summary/{title}"), f"**{title}**\n\n{markdown}", step=0)
        self.writer.flush()
        tables = self.state.setdefault("tables", {})
        tables[title] = [{k: _jsonable(v) for k, v in row.items()} for row in rows]
        self._save_state()
        (self.dir / "summary.md").write_text(
            self.where()
            + "\n\n"
            + "".join(  # rewritten: each table once
                f"## {name}\n\n{format_table(table, digits=digits, markdown=True)}\n\n"
                for name, table in tables.items()
            )
        )
        return text

    def where(self):
        """One line: the device(s), replicas and precision this run trained on."""
        import keras

        replicas = self.strategy.num_replicas_in_sync if self.strategy is not None else 1
        return (
            f"Ran on: {self.state.get('device', 'unknown device')}; {replicas} replica(s) in sync, so each "
            f"batch size is {replicas}x the per-replica one; precision {keras.mixed_precision.global_policy().name}."
        )

    def text(self, name, text):
        """Print ``text`` and log it as TensorBoard text ``name`` (e.g. an answer to a student's question)."""
        import tensorflow as tf

        print(text)
        with self.writer.as_default():
            tf.summary.text(_tag(name), text, step=0)
        self.writer.flush()

    def figure(self, name, figure, step=0):
        """Save a matplotlib figure as ``<run>/<name>.png`` and as TensorBoard image ``name``."""
        from mlcourse.callbacks.figures import log_figure

        log_figure(self.writer, name, figure, step=step, png_path=self.dir / f"{_slug(name)}.png")
        return self.dir / f"{_slug(name)}.png"

    def log_hparams(self, variant, hparams, metrics):
        """Record one trial of an HParams experiment: its hyperparameters and final metrics.

        The experiment's configuration (every hyperparameter's values, every metric) is written to
        the run folder when the run ends, so TensorBoard's HParams tab shows all trials together.
        """
        import tensorflow as tf
        from tensorboard.plugins.hparams import api as hp

        writer = tf.summary.create_file_writer(str(self.variant_dir(variant)))
        with writer.as_default():
            hp.hparams(hparams, trial_id=_slug(variant))
            for name, value in metrics.items():
                tf.summary.scalar(name, float(value), step=0)
        writer.close()
        for name, value in hparams.items():
            self._hparams.setdefault(("hparam", name), set()).add(value)
        for name in metrics:
            self._hparams.setdefault(("metric", name), set())

    def _write_hparams_config(self):
        if not self._hparams:
            return
        from tensorboard.plugins.hparams import api as hp

        params, metrics = [], []
        for (kind, name), values in sorted(self._hparams.items(), key=lambda item: item[0]):
            if kind == "metric":
                metrics.append(hp.Metric(name))
            elif len({type(v) for v in values}) == 1 and not isinstance(next(iter(values)), bool):
                params.append(hp.HParam(name, hp.Discrete(sorted(values))))
            else:
                params.append(hp.HParam(name))
        with self.writer.as_default():
            hp.hparams_config(hparams=params, metrics=metrics)
        self.writer.flush()
