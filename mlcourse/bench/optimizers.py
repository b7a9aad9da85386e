"""Each mlcourse optimizer against its Keras twin (ML2021 L05-L06).

Two copies of one MLP (8 Dense layers, identical initial weights) get the same compiled step:
"train" (forward, backward and the update, what ``model.fit`` runs) and "update" (the optimizer's
update alone, on fixed gradients, where the optimizers differ). Target: median ratio ≤ 1.05.
EMAMomentum, NormalizedGD and GlobalRMSProp have no twin: they are timed against the nearest Keras
optimizer as stories (their ratio is the cost of what they do differently).
"""

import keras
import numpy as np
import tensorflow as tf

from mlcourse import optimizers as O
from mlcourse.bench import Comparison

#: name -> (ours, Keras's twin or nearest, whether it is a twin)
PAIRS = {
    "GradientDescent": (lambda: O.GradientDescent(0.01), lambda: keras.optimizers.SGD(0.01), True),
    "Momentum": (
        lambda: O.Momentum(0.01, 0.9),
        lambda: keras.optimizers.SGD(0.01, momentum=0.9),
        True,
    ),
    "Adagrad": (lambda: O.Adagrad(0.01), lambda: keras.optimizers.Adagrad(0.01), True),
    "RMSProp": (lambda: O.RMSProp(0.001), lambda: keras.optimizers.RMSprop(0.001), True),
    "Adam": (lambda: O.Adam(0.001), lambda: keras.optimizers.Adam(0.001), True),
    "EMAMomentum": (
        lambda: O.EMAMomentum(0.1, 0.9),
        lambda: keras.optimizers.SGD(0.01, momentum=0.9),
        False,
    ),
    "NormalizedGD": (lambda: O.NormalizedGD(0.01), lambda: keras.optimizers.SGD(0.01), False),
    "GlobalRMSProp": (
        lambda: O.GlobalRMSProp(0.001),
        lambda: keras.optimizers.RMSprop(0.001),
        False,
    ),
}


def _model(width, depth):
    keras.utils.set_random_seed(0)
    layers = [keras.layers.Dense(width, activation="relu") for _ in range(depth - 1)] + [
        keras.layers.Dense(10)
    ]
    return keras.Sequential([keras.Input((64,)), *layers])


def _steps(optimizer, width, depth, batch):
    """The compiled train step and update-only step of a fresh model trained by ``optimizer``."""
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(batch, 64)).astype("float32"))
    y = tf.constant(rng.integers(0, 10, batch))
    model = _model(width, depth)
    variables = model.trainable_variables
    optimizer.build(variables)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    grads = [
        tf.constant(np.random.default_rng(i).normal(0, 1e-3, v.shape).astype("float32"))
        for i, v in enumerate(variables)
    ]

    @tf.function(jit_compile=False)
    def train():
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        optimizer.apply(tape.gradient(loss, variables), variables)
        return loss

    @tf.function(jit_compile=False)
    def update():
        optimizer.apply(grads, variables)
        return optimizer.iterations

    return {"train": train, "update": update}


def _graph_ops(step):
    """Operations in the compiled graph: equal counts mean both run the same work, so a ratio away
    from 1 is timing noise."""
    return len(step.get_concrete_function().graph.get_operations())


def comparisons(smoke=False):
    width, depth, batch = (64, 4, 32) if smoke else (256, 8, 128)
    names = ["GradientDescent", "Adam", "NormalizedGD"] if smoke else list(PAIRS)
    for name in names:
        ours, theirs, twin = PAIRS[name]
        reference = type(theirs()).__name__ + ("" if twin else " (nearest)")
        for step in ("train", "update"):

            def build(ours=ours, theirs=theirs, step=step):
                mine, keras_ = (
                    _steps(ours(), width, depth, batch)[step],
                    _steps(theirs(), width, depth, batch)[step],
                )
                return mine, keras_, f"graph ops {_graph_ops(mine)}/{_graph_ops(keras_)}"

            yield Comparison(
                "optimizers",
                f"{name} {step} step ({depth}x Dense {width}, batch {batch})",
                build,
                target=1.05 if twin else None,
                ours=name,
                reference=reference,
            )
