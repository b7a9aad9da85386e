"""Stop on a NaN/Inf loss and say what to try (usually: a lower learning rate)."""

import math

import keras

__all__ = ["TerminateOnNaNWithHint"]


class TerminateOnNaNWithHint(keras.callbacks.Callback):
    """Like ``keras.callbacks.TerminateOnNaN``, with a message that suggests a lower learning rate.

    After training, ``diverged`` says whether it fired and ``message`` says where.
    """

    def __init__(self, label=""):
        super().__init__()
        self.label = label
        self.diverged = False
        self.message = ""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(float(loss)):
            return
        rate = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        self.diverged = True
        self.message = (
            f"{self.label or 'training'}: loss became {float(loss)} at batch {batch}; stopping. "
            f"The learning rate is {rate:g}: try a lower one (e.g. {rate / 10:g})."
        )
        print(f"[mlcourse] {self.message}")
        self.model.stop_training = True
