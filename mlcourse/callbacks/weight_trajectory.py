"""Record a small model's parameters after every update: the path training takes on a loss surface.

ML2021 L07 (and L04-L06): drawing the path ``θ⁰, θ¹, θ², …`` of gradient descent on top of the loss
surface shows *where* it stalls. This callback keeps that path for models with a handful of
parameters, in a JSON file (so a resumed run keeps the part it already walked) and as TensorBoard
scalars (``trajectory/<weight name>`` against the update count).
"""

import json
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from mlcourse.callbacks.base import SummaryCallback, update_count
from mlcourse.record import write_json
from mlcourse.validation import check_positive_int

__all__ = ["WeightTrajectory"]


class WeightTrajectory(SummaryCallback):
    """Append ``θ^t`` (all trainable weights, flattened) after every update.

    Args:
        path: JSON file for the path; an existing file is loaded and continued (resumed runs).
        log_dir: optional folder for TensorBoard scalars ``trajectory/<name>``.
        max_parameters: refuse bigger models (the path is for drawing, not for big nets), 1-1000.

    Attributes:
        names: one name per recorded scalar: the variable's path without the model's name (e.g.
            ``dense/kernel``; ``[i]`` for vectors).
        history: list of ``[step, θ_1, θ_2, …]``; the first point is the starting parameters (step
            0).
    """

    unit = "update"

    def __init__(self, path, log_dir=None, max_parameters=16):
        super().__init__(log_dir, every=1)
        self.max_parameters = check_positive_int("max_parameters", max_parameters, high=1000)
        self.path = Path(path)
        saved = json.loads(self.path.read_text()) if self.path.exists() else {}
        self.names = saved.get("names", [])
        self.history = saved.get("history", [])

    def _parameters(self):
        names, values = [], []
        prefix = f"{self.model.name}/"
        for variable in self.model.trainable_weights:
            array = np.ravel(keras.ops.convert_to_numpy(variable)).astype(float)
            path = (
                variable.path[len(prefix) :] if variable.path.startswith(prefix) else variable.path
            )
            names += [path] if array.size == 1 else [f"{path}[{i}]" for i in range(array.size)]
            values += array.tolist()
        return names, values

    def on_train_begin(self, logs=None):
        self.names, values = self._parameters()
        if len(values) > self.max_parameters:
            raise ValueError(
                f"max_parameters is {self.max_parameters} but the model has {len(values)}: "
                "WeightTrajectory is for drawing small models"
            )
        step = update_count(self.model)
        self.history = [p for p in self.history if p[0] < step]  # drop what a restored backup undid
        self._write(step)

    def write(self, step):
        values = self._parameters()[1]
        self.history.append([step, *values])
        if self.writer is not None:
            with self.writer.as_default():
                for name, value in zip(self.names, values, strict=True):
                    tf.summary.scalar(f"trajectory/{name}", value, step=step)

    def on_epoch_end(self, epoch, logs=None):
        self._save()

    def on_train_end(self, logs=None):
        self._save()
        super().on_train_end(logs)

    def _save(self):
        write_json(self.path, {"names": self.names, "history": self.history})

    def array(self):
        """The path as an array ``(updates + 1, 1 + parameters)``: column 0 is the update count."""
        return np.asarray(self.history, dtype="float64")
