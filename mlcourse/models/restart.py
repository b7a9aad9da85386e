"""Train the same architecture again from new initial weights, without tracing its step again.

Tracing a model's training step (``tf.function``) costs seconds for a deep stack, often more than
training it for a few epochs. Repeating an experiment over seeds only needs new initial weights
and a fresh optimizer state, so ``restart`` puts an already trained (and traced) model back at the
start of training with a freshly built model's initial weights and optimizer state.
"""

__all__ = ["restart"]


def restart(model, fresh):
    """Give ``model`` the initial weights and optimizer state of ``fresh`` (same architecture).

    Both must be compiled with the same kind of optimizer; ``fresh`` is only read (its optimizer
    is built to get its initial state, e.g. Adagrad's initial accumulators, Adam's zero moments).
    Returns ``model``, whose traced training step is kept.
    """
    if len(model.weights) != len(fresh.weights):
        raise ValueError(
            f"fresh must have the architecture of model: {len(fresh.weights)} weights vs "
            f"{len(model.weights)}"
        )
    model.set_weights(fresh.get_weights())
    if not fresh.optimizer.built:
        fresh.optimizer.build(fresh.trainable_variables)
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    for variable, start in zip(model.optimizer.variables, fresh.optimizer.variables, strict=True):
        variable.assign(start)
    return model
