"""Stop training when the loss on a probe set reaches a target (compare models at equal fit).

ML2021 L05: "small batches generalise better" is a claim about models that fit the training data
equally well (Keskar et al. compare at similar training accuracy). Comparing after equal epochs
mixes it up with how far each got; this callback ends each model's training at the same training
loss instead.
"""

import keras
import numpy as np

from mlcourse.callbacks.base import update_count
from mlcourse.validation import check_positive, check_positive_int

__all__ = ["StopAtLoss"]


class StopAtLoss(keras.callbacks.Callback):
    """Every ``every`` updates, measure the loss on ``(x, y)``; stop once it is at most
    ``target``.

    Args:
        x, y: the probe (for example a few thousand training examples).
        target: the loss to reach.
        every: how often to measure (positive int).

    Attributes:
        reached: the update count at which the target was reached, or None.
        loss: the last probe loss measured.
    """

    def __init__(self, x, y, target, every=1):
        super().__init__()
        self.x, self.y = x, y
        self.target = check_positive("target", target)
        self.every = check_positive_int("every", every)
        self.reached, self.loss = None, None

    def on_train_batch_end(self, batch, logs=None):
        updates = update_count(self.model)
        if updates % self.every:
            return
        result = self.model.evaluate(self.x, self.y, batch_size=1024, verbose=0, return_dict=True)
        self.loss = float(result["loss"])
        if np.isfinite(self.loss) and self.loss <= self.target:
            self.reached = updates
            self.model.stop_training = True
