"""The tutorial runner: a thin ``Run`` that trains, over a folder with its record and a reporter.

Every tutorial does the same few things, so they live here::

    def main(config):                                  # options parsed once (mlcourse.options)
        with runner.Run(TUTORIAL, config) as run:      # logs/<tutorial>/<timestamp>/, seeded
            with run.scope():
                model = ...                            # built inside the tf.distribute strategy
            history = run.fit("variant", model, x, y, epochs=config.epochs)
            run.table("Results", rows)                 # terminal + TensorBoard text + summary.md
            run.figure("predictions", figure)          # PNG + TensorBoard image
            run.verdict("the lecture's claim", "what was measured", verdicts.exceeds(a, b), seeds=3)

    if __name__ == "__main__":
        runner.script(main, TUTORIAL, OPTIONS, __doc__)

The parts, one job each: ``mlcourse.options`` (the modes and the options, parsed once),
``mlcourse.record`` (the run's folder, ``run.json`` and who owns it), ``mlcourse.reporting``
(tables, texts, figures, verdicts, HParams) and ``Run`` here (the device, the seed, ``fit`` with
resume, results kept across a resume).

Resuming: a run killed (or interrupted, or failed) and started again with the same options continues
in its folder: finished models are reloaded, the unfinished one resumes from its last saved epoch
(``mlcourse.checkpoint``), kept results are reused. A run that completed is not run
again: the same command shows its verdicts; ``--fresh`` runs it again in a new folder.

TensorFlow backend only: importing it on another Keras backend raises ``BackendError``.
"""

import contextlib
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import keras
import tensorflow as tf

from mlcourse import distribute, notebooks, options, quiet, training, verdicts
from mlcourse.backends import require_tensorflow
from mlcourse.callbacks.base import update_count
from mlcourse.callbacks.learning_rate import LearningRateLogger
from mlcourse.callbacks.terminate_on_nan import TerminateOnNaNWithHint
from mlcourse.checkpoint import Checkpoint
from mlcourse.commands import command
from mlcourse.data.files import DataFileError
from mlcourse.options import MODE_LINES, SMOKE_BANNER
from mlcourse.record import (
    RunFolder,
    RunRecord,
    complete_lines,
    jsonable,
    now,
    run_to_show,
    slug,
)
from mlcourse.reporting import Reporter
from mlcourse.tables import format_table
from mlcourse.validation import check_bool

require_tensorflow("mlcourse.runner")

__all__ = ["Run", "RunError", "execute", "format_table", "logdir_of", "script"]


class RunError(RuntimeError):
    """A run cannot go on. The message says what to do; the CLI prints it and exits 1."""


FINAL_WEIGHTS = "final.weights.h5"


@contextlib.contextmanager
def _saving_on_interrupt(name, folder, checkpoint, recorder):
    """Ctrl-C keeps what the finished epochs learned; a failed write says how to go on."""
    try:
        yield
    except KeyboardInterrupt:
        done = max(recorder.epochs, default=-1) + 1
        if done > checkpoint.saved_epochs:
            checkpoint.save(done)
            recorder.save()
        raise
    except OSError as error:  # e.g. a full disk while a checkpoint is written
        raise RunError(
            f"{name}: could not write under {folder} ({error.strerror or error}); "
            "free some space or pass --logdir DIR"
        ) from error


class Run:
    """One run of a tutorial. Use as a context manager (or ``open()`` ... ``close()``).

    Args:
        tutorial: the tutorial's ``TUTORIAL`` dict (``id``, ``lecture``, ``title``).
        config: its ``mlcourse.options.Config``.

    Attributes:
        config: the options. ``dir``: the run folder. ``seed``, ``mode``: from the options.
        resumed: whether this run continues an unfinished one. ``strategy``: the
        ``tf.distribute.Strategy`` in use. ``record``: the ``RunRecord`` behind ``run.json``.
    """

    def __init__(self, tutorial, config):
        self.tutorial = {k: tutorial[k] for k in ("id", "lecture", "title")}
        self.id = tutorial["id"]
        self.config = config
        self.seed, self.mode = config.seed, config.mode
        self.root = Path(config.logdir) / self.id
        if config.strategy == "multiworker" and not distribute.is_chief():
            self.root = self.root / "{}-{}".format(*distribute.task())  # the chief logs at the top
        self.folder = self.record = self.reporter = self.strategy = None
        self.resumed = False
        self._started = None

    @property
    def dir(self):
        return self.folder.path

    @property
    def smoke(self):
        return self.mode == "smoke"

    # -- lifecycle
    def __enter__(self):
        return self.open()

    def __exit__(self, exc_type, exc, tb):
        self.close(exc_type, exc)
        return False

    def open(self):
        """Claim the folder (resume or new), choose the device, seed everything;
        returns ``self``.
        """
        self._started = time.time()
        try:
            self.folder, previous = RunFolder.claim(
                self.root, self.config.fingerprint(), self.config.fresh
            )
        except OSError as error:
            raise RunError(
                f"cannot write logs under {self.root} ({error.strerror or error}): "
                "pass --logdir DIR with a writable folder, or set MLCOURSE_LOGDIR"
            ) from None
        self.resumed = previous is not None
        self.record = previous or RunRecord(
            tutorial=self.tutorial,
            options=self.config.as_dict(),
            fingerprint=self.config.fingerprint(),
            mode=self.mode,
            note=SMOKE_BANNER if self.smoke else "",
        )
        self.record.status, self.record.error = "running", ""
        self.reporter = Reporter(self.dir, self.record, self._save, self.where)
        self._save()
        print(f"{self.id}: {self.tutorial['title']} (lecture {self.tutorial['lecture']})")
        print(MODE_LINES[self.mode] + f" Seed {self.seed}.")
        try:
            self.strategy = self._choose_strategy()  # first: devices must be set before any op
        except RunError as error:
            self.close(RunError, error)
            raise
        keras.utils.set_random_seed(self.seed)
        if self.config.deterministic:
            tf.config.experimental.enable_op_determinism()
        print(f"{'resuming' if self.resumed else 'new run'} in {self.dir}; {self.where()}")
        return self

    def close(self, exc_type=None, exc=None):
        """Finish the run: status, HParams columns, the verdict table, the folder's lock."""
        self.record.seconds += time.time() - self._started
        if exc_type is None:
            self.reporter.verdict_table()
            self.record.status = "complete"
        elif issubclass(exc_type, KeyboardInterrupt):
            self.record.status = "interrupted"
        else:
            self.record.status, self.record.error = "failed", f"{exc_type.__name__}: {exc}"
        self.record.finished = now()
        try:
            self._save()
            self.reporter.write_summary()
        except OSError:
            pass
        self.reporter.close()
        self.folder.release()
        keras.mixed_precision.set_global_policy("float32")
        if exc_type is None:
            print(
                f"{self.id}: done in {time.time() - self._started:.1f} s. "
                f"See it in TensorBoard: {command('board', self.id, logdir=self.config.logdir)}"
            )

    def _choose_strategy(self):
        try:
            chosen = distribute.strategy(self.config.strategy, verbose=False)
        except RuntimeError as error:  # no such device, or devices configured too late
            raise RunError(str(error)) from None
        self.record.device = distribute.describe(chosen)
        if self.config.mixed_precision:
            policy = distribute.mixed_precision_policy(chosen)
            if policy is None:
                raise RunError(
                    "--mixed-precision needs a GPU or a TPU (a CPU computes float16 slower and "
                    "no more precisely): leave the flag out on this machine"
                )
            keras.mixed_precision.set_global_policy(policy)
        self.record.precision = keras.mixed_precision.global_policy().name
        return chosen

    def _save(self):
        self.record.save(self.folder.record_path)

    def where(self):
        """One line: the device(s), replicas and precision this run trained on."""
        replicas = self.strategy.num_replicas_in_sync if self.strategy is not None else 1
        precision = self.record.precision or keras.mixed_precision.global_policy().name
        return (
            f"ran on {self.record.device or 'an unknown device'}, {replicas} replica(s) in sync "
            f"(each batch size is {replicas}x the per-replica one), precision {precision}."
        )

    # -- training
    def seeds(self, count):
        """``count`` seeds for repeated measurements: ``100·seed + i``, so ``--seed 0`` and
        ``--seed 1`` use disjoint blocks (0, 1, 2 and 100, 101, 102)."""
        return [100 * self.seed + i for i in range(count)]

    def scope(self):
        """The strategy's scope: build and compile models inside it."""
        return self.strategy.scope()

    def global_batch(self, per_replica_batch):
        """Scale a per-replica batch size by the number of replicas in sync."""
        return int(per_replica_batch) * self.strategy.num_replicas_in_sync

    def variant_dir(self, variant):
        """The folder of one trained model (one TensorBoard run)."""
        return self.folder.variant(variant)

    def updates(self, variant):
        """How many optimizer updates the variant's training made (all epochs,
        a resume included).
        """
        return self.record.variants[slug(variant)]["updates"]

    def seconds(self, variant):
        """Training seconds of a finished variant (of the fit that finished it)."""
        return self.record.variants[slug(variant)]["seconds"]

    def is_done(self, variant):
        """Whether ``variant`` already finished in this (resumed) run."""
        status = self.record.variants.get(slug(variant), {}).get("status")
        return status in ("complete", "diverged")

    def diverged(self, variant):
        """Whether ``variant``'s loss became NaN or infinite (only with ``fit(allow_nan=True)``)."""
        return self.record.variants.get(slug(variant), {}).get("status") == "diverged"

    def fit(
        self, variant, model, x=None, y=None, *, epochs, callbacks=(), allow_nan=False, **fit_kwargs
    ):
        """``model.fit`` with the runner's callbacks, logged under ``<run>/<variant>/``; a History.

        Adds ``TensorBoard``, a ``Checkpoint`` (resume from the last saved epoch), a NaN guard
        that suggests a lower learning rate, and a per-update learning-rate logger. A variant
        finished earlier in a resumed run is not trained again: its final weights and history are
        reloaded. NumPy data (training and validation) is fed through a ``tf.data`` pipeline built
        once, reshuffled every epoch: Keras's NumPy path rebuilds its pipeline every epoch, which
        costs more than training a small model.

        Args:
            variant: a name for this model within the run (one folder, one TensorBoard run).
            allow_nan: if False (default) a NaN/Inf loss raises ``RunError``; if True the history
                is returned and ``run.diverged(variant)`` is True.
            callbacks: extra callbacks (e.g. from ``mlcourse.callbacks``).
            batch_size: per replica. The runner multiplies it by the number of replicas in sync
                (``run.global_batch``); on one device nothing changes.
            Other arguments go to ``model.fit``.
        """
        name = slug(variant)
        folder = self.variant_dir(name)
        checkpoint = Checkpoint(folder / "backup")
        recorder = training.EpochRecorder(folder / "history.json", checkpoint)
        if self.is_done(name) and (folder / FINAL_WEIGHTS).exists():
            return self._reuse(name, model, folder, recorder)
        guard = TerminateOnNaNWithHint(name)
        initial_epoch = checkpoint.restore(model)
        for note in checkpoint.notes:
            start = f"resuming from epoch {initial_epoch}" if initial_epoch else "starting it over"
            print(f"  {name}: {note}; {start}")
        fit_kwargs.setdefault("verbose", 2 if self.config.verbose else 0)
        if fit_kwargs.get("batch_size"):  # per replica; each step takes one batch on every replica
            fit_kwargs["batch_size"] = self.global_batch(fit_kwargs["batch_size"])
        global_batch = fit_kwargs.get("batch_size")
        digest = hashlib.sha256(f"{self.seed}/{name}".encode()).digest()
        x, y, fit_kwargs = training.as_datasets(x, y, fit_kwargs, int.from_bytes(digest[:4], "big"))
        own = [checkpoint, *self._runner_callbacks(name, folder, epochs), guard, recorder]
        started = time.time()
        with _saving_on_interrupt(name, folder, checkpoint, recorder):
            model.fit(
                x,
                y,
                epochs=epochs,
                initial_epoch=initial_epoch,
                callbacks=own + list(callbacks),
                **fit_kwargs,
            )
            if guard.diverged and not allow_nan:
                raise RunError(guard.message)
            tmp = folder / f".final.{os.getpid()}.tmp.weights.h5"
            model.save_weights(tmp)
            os.replace(tmp, folder / FINAL_WEIGHTS)
        seconds = time.time() - started
        self.record.variants[name] = {
            "status": "diverged" if guard.diverged else "complete",
            "seconds": round(seconds, 3),
            "updates": update_count(model),
            "global_batch": global_batch,
        }
        self._save()
        checkpoint.clear()
        return self._summarise(name, recorder.history(), seconds)

    def _reuse(self, name, model, folder, recorder):
        """Load the final weights of a variant finished earlier in this run; its History."""
        if model.optimizer is not None and not model.optimizer.built:
            with self.scope():  # the file holds the optimizer's state too
                model.optimizer.build(model.trainable_variables)
        model.load_weights(folder / FINAL_WEIGHTS)
        print(f"  {name}: finished earlier in this run; its weights are reused")
        return recorder.history()

    def _runner_callbacks(self, name, folder, epochs):
        """The progress bar (on a terminal), TensorBoard and the per-update learning rate."""
        progress = (
            []
            if self.config.verbose or not sys.stdout.isatty()
            else [training.Progress(name, epochs)]
        )
        tensorboard = keras.callbacks.TensorBoard(str(folder), write_graph=False)
        return [*progress, tensorboard, LearningRateLogger(folder / "train")]

    def _summarise(self, name, history, seconds):
        """Print one line per trained variant (unless Keras already printed every epoch)."""
        if not self.config.verbose:
            last = {k: v[-1] for k, v in history.history.items() if v}
            shown = ", ".join(f"{k} {v:.4g}" for k, v in last.items())
            print(f"  {name}: {len(history.epoch)} epochs in {seconds:.1f} s; {shown}")
        return history

    def result(self, name, compute):
        """``compute()`` once per run, for work outside ``run.fit`` (evaluations over many draws,
        timings): its result, which must be JSON-able (numbers, strings, lists, dicts), is kept in
        ``run.json``, so a killed run started again reuses it instead of computing it again."""
        if name not in self.record.results:
            self.record.results[name] = json.loads(json.dumps(compute(), default=jsonable))
            self._save()
        else:
            print(f"  {name}: computed earlier in this run; reused")
        return self.record.results[name]

    # -- reporting (see mlcourse.reporting)
    @property
    def writer(self):
        """A ``tf.summary`` writer for the run folder (run-level scalars, text, images)."""
        return self.reporter.writer

    def table(self, title, rows, columns=None, digits=4):
        """Print a table; also TensorBoard text ``summary/<title>`` and ``summary.md``."""
        return self.reporter.table(title, rows, columns, digits)

    def text(self, name, text):
        """Print ``text`` and log it as TensorBoard text ``name``."""
        self.reporter.text(name, text)

    def figure(self, name, figure, step=0):
        """Save a matplotlib figure as ``<run>/<name>.png`` and as TensorBoard image ``name``."""
        return self.reporter.figure(name, figure, step)

    def log_hparams(self, variant, hparams, metrics):
        """Record one trial of the run's HParams experiment: its hyperparameters and metrics."""
        trial_id = f"{self.id}/{self.dir.name}/{slug(variant)}"  # unique across runs
        self.reporter.hparams(self.variant_dir(variant), trial_id, hparams, metrics)

    def verdict(self, claim, measured, outcome, seeds=1, reason="", full_scale=False):
        """Judge one of the lecture's claims from this run's measurements; returns the outcome.

        Args:
            claim: the claim in the lecture's (or the notes') words.
            measured: what this run measured, with the numbers.
            outcome: a ``verdicts.Comparison`` (e.g. ``verdicts.exceeds(a, b)``), a bool for a
                claim without noise, or an outcome string.
            seeds: how many seeds or repeats the numbers come from.
            reason: one sentence shown when the claim does not hold or is inconclusive: why, or
                what ``--full`` shows.
            full_scale: the claim is about a scale only ``--full`` reaches (more data, longer
                training). Outside the full run a result against it is not a finding about the
                claim: it reads ``inconclusive`` (at this size), with the numbers measured.
        """
        result = verdicts.outcome_of(outcome)
        full_scale = check_bool("full_scale", full_scale)
        if full_scale and self.mode != "full" and result == verdicts.DOES_NOT_HOLD:
            result = verdicts.INCONCLUSIVE
            reason = "at this size the measurement goes against the claim" + (
                f", but {reason}" if reason else ", which is about a larger one"
            )
        shown = verdicts.NOT_JUDGED if self.smoke else result
        if isinstance(outcome, verdicts.Comparison):
            measured = f"{measured} ({outcome})"
        verdict = verdicts.Verdict(
            tutorial=self.id,
            lecture=str(self.tutorial["lecture"]),
            claim=claim,
            measured=measured,
            verdict=shown,
            mode=self.mode,
            seeds=int(seeds),
            reason="" if shown == verdicts.HOLDS or self.smoke else reason,
        )
        self.reporter.verdict(verdict)
        return shown


def logdir_of(tutorial, logdir=None):
    """The folder of a tutorial's runs (TensorBoard's ``--logdir`` for just this tutorial)."""
    return Path(logdir or options.default_logdir()) / tutorial["id"]


def execute(tutorial, main, config):
    """Run ``main(config)`` unless a complete run with the same options exists (then show it)."""
    folder, record = run_to_show(tutorial["id"], config)
    if record is None:
        main(config)
        return
    again = 'options={"fresh": True}' if notebooks.in_notebook() else "--fresh"
    print("\n".join(complete_lines(tutorial["id"], folder, record, again)))


def script(main, tutorial, specs, description, argv=None, **parameters):
    """Run a tutorial file: parse the flags, run, and turn a ``RunError``, a data error or Ctrl-C
    into one line (exit 1, or 130 for Ctrl-C).

    As a script the flags are the command line's (or ``argv``). In a notebook (a Jupyter kernel)
    they are the ``parameters`` cell's: ``mode``, ``seed``, ``logdir`` and ``options``, passed as
    keyword arguments and turned into the same flags (``mlcourse.notebooks.flags``).
    """
    if argv is None:
        in_kernel = notebooks.in_notebook()
        argv = notebooks.flags(specs, **parameters) if in_kernel else sys.argv[1:]
    config = options.parse(tutorial["id"], specs, argv, description)
    quiet.start_tensorflow(verbose=config.verbose)  # no retracing warnings
    try:
        execute(tutorial, main, config)
    except (RunError, DataFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        print("interrupted; run the same command to resume", file=sys.stderr)
        raise SystemExit(130) from None
