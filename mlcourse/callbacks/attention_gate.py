"""Log the residual gate γ of every ``ImageSelfAttention`` layer once an epoch (TensorBoard
Scalars).

ML2021 L11, self-attention for images (SAGAN): ``y = γ · attention(x) + x`` with ``γ = 0`` at the
start, so a CNN with the block begins as the plain CNN. How far ``|γ|`` moves from 0 is the
network's own answer to "how much non-local (self-attention) evidence do I want on top of my
convolutions?".
"""

import keras
import tensorflow as tf

from mlcourse.callbacks.base import SummaryCallback
from mlcourse.layers import ImageSelfAttention

__all__ = ["AttentionGateLogger", "attention_gates"]


def attention_gates(model):
    """``{layer name: γ}`` for every ``ImageSelfAttention`` in ``model`` (nested models
    included).
    """
    gates, stack = {}, list(model.layers)
    while stack:
        layer = stack.pop(0)
        if isinstance(layer, ImageSelfAttention):
            gates[layer.name] = float(keras.ops.convert_to_numpy(layer.gamma))
        stack.extend(getattr(layer, "layers", []))
    return gates


class AttentionGateLogger(SummaryCallback):
    """Write ``attention_gate/<layer>`` = γ before training (step 0) and every ``every`` epochs.

    Args:
        log_dir: folder for the event file (e.g. ``run.variant_dir(variant) / "train"``, beside the
            loss curves).
        every: epochs between two writes (positive int).

    Attributes:
        history: ``{layer name: [(epoch, γ), …]}`` as logged.
    """

    def __init__(self, log_dir, every=1):
        super().__init__(log_dir, every, write_first=True)
        self.history = {}

    def write(self, step):
        with self.writer.as_default():
            for name, gamma in attention_gates(self.model).items():
                self.history.setdefault(name, []).append((step, gamma))
                tf.summary.scalar(f"attention_gate/{name}", gamma, step=step)
