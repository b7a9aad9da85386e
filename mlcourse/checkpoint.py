"""Resumable training: a checkpoint that survives a kill at any instant.

``run.fit`` keeps one ``Checkpoint`` per trained model. After an epoch (at most every
``min_seconds``, so a tiny model's many short epochs do not spend their time writing files) it
saves the model's weights with the optimizer's state into a new file ``epoch-<N>.weights.h5``
(written under a temporary name, then renamed), and only then points ``checkpoint.json`` at it
(also a rename); ``run.fit`` also saves at once on Ctrl-C. A kill at any instant therefore leaves
``checkpoint.json`` naming a complete file: the newest one or the one before. ``restore`` loads it
and returns the epoch to start from (``model.fit(initial_epoch=...)``); a damaged file is reported
in one line and the one before is tried, else the model starts over.
"""

import json
import os
import time
from pathlib import Path

import keras

from mlcourse.record import write_json

__all__ = ["Checkpoint"]


class Checkpoint(keras.callbacks.Callback):
    """Save training state every epoch (at most every ``min_seconds``) into ``folder``.

    Args:
        folder: where the files go (one folder per trained model).
        min_seconds: the least time between two saves; 0 saves after every epoch.

    Attributes:
        notes: one-line messages about damaged files met by ``restore``.
    """

    def __init__(self, folder, min_seconds=2.0):
        super().__init__()
        self.folder = Path(folder)
        self.min_seconds = float(min_seconds)
        self.notes = []
        self.saved_epochs = 0  # epochs done at the last save
        self._last_save = None

    @property
    def pointer(self):
        return self.folder / "checkpoint.json"

    def _candidates(self):
        """Weight files to try, newest first: the one ``checkpoint.json`` names, then the others."""
        named = []
        try:
            state = json.loads(self.pointer.read_text())
            named = [(int(state["epoch"]), self.folder / state["file"])]
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError) as error:
            self.notes.append(f"checkpoint.json in {self.folder} is damaged ({error})")
        found = []
        for path in self.folder.glob("epoch-*.weights.h5"):
            try:
                found.append((int(path.name.split("-")[1].split(".")[0]), path))
            except ValueError:
                continue
        ordered = named + sorted((f for f in found if f not in named), reverse=True)
        return ordered

    def restore(self, model):
        """Load the newest intact state into ``model``; the epoch to resume from (0: none)."""
        for epoch, path in self._candidates():
            if model.optimizer is not None and not model.optimizer.built:
                model.optimizer.build(model.trainable_variables)  # its state is in the file
            try:
                model.load_weights(path)
            except (OSError, ValueError) as error:
                reason = str(error).splitlines()[0] if str(error) else type(error).__name__
                self.notes.append(f"checkpoint {path.name} is damaged ({reason[:120]})")
                continue
            return epoch
        return 0

    def on_train_begin(self, logs=None):
        self._last_save = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        if time.monotonic() - self._last_save >= self.min_seconds:
            self.save(epoch + 1)

    def save(self, epochs_done):
        """Write the state after ``epochs_done`` epochs; keep it and the one before."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"epoch-{epochs_done:05d}.weights.h5"
        tmp = self.folder / f".{name}.{os.getpid()}.tmp.weights.h5"
        self.model.save_weights(tmp)
        os.replace(tmp, self.folder / name)
        write_json(self.pointer, {"epoch": epochs_done, "file": name})
        self.saved_epochs = epochs_done
        for path in sorted(self.folder.glob("epoch-*.weights.h5"))[:-2]:
            path.unlink(missing_ok=True)
        self._last_save = time.monotonic()

    def clear(self):
        """Remove the files once the model has finished (its final weights are kept elsewhere)."""
        for path in list(self.folder.glob("epoch-*.weights.h5")) + [self.pointer]:
            path.unlink(missing_ok=True)
