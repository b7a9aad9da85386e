"""What ``Run.fit`` adds around ``model.fit``: NumPy fed through ``tf.data``, a history that
survives a resume, and a progress bar per model.

- ``as_datasets``: NumPy training and validation data as ``tf.data`` pipelines built once.
- ``EpochRecorder``: the per-epoch metrics in ``history.json``, written with the checkpoint.
- ``Progress``: one Keras progress bar per model, epochs as its unit.

TensorFlow backend only: importing it on another Keras backend raises ``BackendError``.
"""

import json
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from mlcourse.backends import require_tensorflow
from mlcourse.record import write_json

require_tensorflow("mlcourse.training")

__all__ = ["EpochRecorder", "Progress", "as_datasets"]


class EpochRecorder(keras.callbacks.Callback):
    """Keeps a model's per-epoch metrics in ``history.json`` so a resumed fit returns all epochs.

    The file is written when the checkpoint is (and at the end), so the two always agree.
    """

    def __init__(self, path, checkpoint=None):
        super().__init__()
        self.path, self.checkpoint = Path(path), checkpoint
        saved = json.loads(self.path.read_text()) if self.path.exists() else {}
        self.epochs = {int(e): m for e, m in saved.items()}

    def on_epoch_end(self, epoch, logs=None):
        self.epochs[epoch] = {k: float(v) for k, v in (logs or {}).items()}
        if self.checkpoint is None or self.checkpoint.saved_epochs == epoch + 1:
            self.save()

    def on_train_end(self, logs=None):
        self.save()

    def save(self):
        write_json(self.path, {str(e): m for e, m in sorted(self.epochs.items())})

    def history(self):
        history = keras.callbacks.History()
        history.epoch = sorted(self.epochs)
        for epoch in history.epoch:
            for key, value in self.epochs[epoch].items():
                history.history.setdefault(key, []).append(value)
        return history


class Progress(keras.callbacks.Callback):
    """One progress bar per model on a terminal: epochs done and the latest metrics."""

    def __init__(self, name, epochs):
        super().__init__()
        self.name, self.epochs = name, epochs
        self.bar = None

    def on_train_begin(self, logs=None):
        print(f"  {self.name}")
        self.bar = keras.utils.Progbar(self.epochs, unit_name="epoch")

    def on_epoch_end(self, epoch, logs=None):
        shown = [(k, float(v)) for k, v in (logs or {}).items() if k in ("loss", "val_loss")]
        self.bar.update(epoch + 1, shown)


def _arrays(value):
    """Whether ``value`` is a NumPy array, or a list/tuple of them (a multi-input model's x)."""
    if isinstance(value, (list, tuple)):
        return bool(value) and all(isinstance(v, np.ndarray) for v in value)
    return isinstance(value, np.ndarray)


def _dataset(arrays, batch_size, shuffle_seed=None):
    """NumPy arrays as a batched ``tf.data.Dataset``, reshuffled every epoch when a seed is given.

    Keras rebuilds its pipeline for NumPy inputs every epoch (and again for validation): tens of
    milliseconds an epoch, most of the time of a small model. A dataset built once avoids that.
    """
    arrays = tuple(tuple(a) if isinstance(a, list) else a for a in arrays)
    dataset = tf.data.Dataset.from_tensor_slices(arrays)
    if shuffle_seed is not None:
        count = len(np.asarray(arrays[1]))
        dataset = dataset.shuffle(count, seed=shuffle_seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def as_datasets(x, y, fit_kwargs, seed):
    """``(x, y, fit_kwargs)`` with NumPy training and validation data turned into datasets.

    Left as they are: data that is already a dataset, ``validation_split``, ``class_weight`` and
    ``steps_per_epoch``, which NumPy-only paths of ``fit`` handle.
    """
    if not (_arrays(x) and _arrays(y)) or any(
        k in fit_kwargs for k in ("validation_split", "class_weight", "steps_per_epoch")
    ):
        return x, y, fit_kwargs
    fit_kwargs = dict(fit_kwargs)
    batch = fit_kwargs.pop("batch_size", None) or 32
    shuffle = fit_kwargs.pop("shuffle", True)
    weights = fit_kwargs.pop("sample_weight", None)
    train = (x, y) if weights is None else (x, y, weights)
    fit_kwargs["shuffle"] = False  # the dataset shuffles itself
    dataset = _dataset(train, batch, seed if shuffle else None)
    validation = fit_kwargs.get("validation_data")
    if isinstance(validation, tuple) and all(_arrays(v) for v in validation):
        fit_kwargs["validation_data"] = _dataset(validation, max(batch, 256))
    return dataset, None, fit_kwargs
