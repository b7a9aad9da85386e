"""What one attention step costs as the sequence grows: softmax vs linear attention, measured.

ML2021 L11, self-attention variants: softmax attention compares every query with every key, so one
step is ``O(T²)`` in time and memory (the ``T × T`` attention matrix); linear attention
(Katharopoulos et al. 2020, ``mlcourse.layers.LinearAttention``) never forms that matrix and is
``O(T)``. ``measure`` times the step and reads the memory it allocates; ``fit_slope`` fits
``log cost = slope · log T + c``, so "quadratic vs linear" is a measured slope, not a claim.

Kinds (all causal by default, so the three compute comparable things):

* ``"softmax"``: ``mlcourse.layers.MultiHeadSelfAttention`` (scaled dot, causal mask);
* ``"linear"``: ``LinearAttention`` in its parallel form (cumulative sums over positions);
* ``"recurrent"``: ``LinearAttention.recurrent``, the RNN form (a Python loop over positions,
  unrolled in the traced step, so tracing time and graph size grow with ``T``: keep ``T`` small).

What is measured, per length ``T`` (inputs ``(batch, T, units)``, fresh random normal, float32):

* ``seconds``: the median over ``repeats`` calls of the wall-clock time of one step — the
  layer's forward pass and, with ``backward=True``, the gradients of ``sum(outputs)`` with respect
  to the inputs and every weight — inside one ``tf.function`` traced beforehand (``warmup`` untimed
  calls, the first of which traces). ``cpu_seconds``: the same for process CPU time (all threads).
* ``peak_bytes``: memory = the peak number of bytes held by TensorFlow's CPU allocator during one
  step, minus what it held just before the step (the inputs and weights, which exist already);
  the median over the ``repeats`` steps.
  Read with ``tf.config.experimental.reset_memory_stats`` / ``get_memory_info("CPU:0")`` (on a GPU,
  ``device="GPU:0"``): it counts every tensor the step allocates (attention scores, weights, saved
  activations, gradients) at its largest simultaneous total — real allocations, not a formula.
  It does not count memory outside TensorFlow's allocator (Python objects, oneDNN scratch space).
  The allocator counts what it hands out, rounded up (to a power of two for the large blocks we
  checked), and in TF 2.21 on CPU small allocations (below roughly 0.25–1 MB) do not show up at
  all: at short lengths ``peak_bytes`` can read 0 or be coarse. Fit slopes on the long sequences.

``measure`` has no side effects besides running TensorFlow (no files, no TensorBoard), so a
benchmark command can call it.

TensorFlow backend only: importing it on another Keras backend raises ``BackendError``.
"""

import gc
import statistics
import time

import keras
import numpy as np
import tensorflow as tf

from mlcourse.backends import require_tensorflow
from mlcourse.layers import LinearAttention, MultiHeadSelfAttention

require_tensorflow("mlcourse.analysis.attention_cost")

__all__ = ["KINDS", "attention_layer", "fit_slope", "measure"]

KINDS = ("softmax", "linear", "recurrent")


def attention_layer(kind, units, heads, causal=True):
    """The layer that ``measure`` times: ``MultiHeadSelfAttention`` or ``LinearAttention``."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if kind == "softmax":
        return MultiHeadSelfAttention(units, heads, score="scaled_dot", causal=causal)
    if kind == "recurrent" and not causal:
        raise ValueError("kind 'recurrent' needs causal=True (the RNN form is causal)")
    return LinearAttention(units, heads, causal=causal)


def _step(layer, kind, backward):
    forward = layer.recurrent if kind == "recurrent" else layer

    @tf.function(reduce_retracing=False)
    def step(inputs):
        if not backward:
            return tf.reduce_sum(forward(inputs))
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            loss = tf.reduce_sum(forward(inputs))
        return loss, tape.gradient(loss, [inputs] + layer.trainable_variables)

    return step


def measure(
    kind,
    lengths,
    batch=1,
    units=64,
    heads=4,
    repeats=5,
    warmup=1,
    backward=True,
    causal=True,
    device="CPU:0",
    seed=0,
):
    """Time and memory of one attention step at each sequence length.

    Args:
        kind: ``"softmax"``, ``"linear"`` or ``"recurrent"`` (see the module docstring).
        lengths: the sequence lengths ``T`` to try.
        batch, units, heads: inputs ``(batch, T, units)``; ``units`` is also the attention units
            (``heads × d``).
        repeats: timed calls per length (the median is reported); at least 1.
        warmup: untimed calls first (the first traces the step); at least 1.
        backward: forward + gradients (a training step) if True, forward only if False.
        causal: causal attention (needed for ``"recurrent"``).
        device: the device to run on and whose allocator is read.
        seed: seeds the weights and the inputs.

    Returns:
        one dict per length: ``kind``, ``length``, ``seconds`` (median wall time of a step),
        ``cpu_seconds`` (median process CPU time), ``peak_bytes`` (median; see the module
        docstring), ``repeats``, and every timed call's ``all_seconds`` and ``all_cpu_seconds``.
    """
    lengths = [int(t) for t in lengths]
    if not lengths or min(lengths) < 1:
        raise ValueError(f"lengths must be positive integers, got {lengths!r}")
    if repeats < 1 or warmup < 1:
        raise ValueError(
            f"repeats and warmup must be at least 1, got repeats={repeats}, warmup={warmup}"
        )
    keras.utils.set_random_seed(seed)
    rows = []
    with tf.device(device):
        layer = attention_layer(kind, units, heads, causal=causal)
        layer.build((batch, None, units))
        step = _step(layer, kind, backward)
        for length in lengths:
            inputs = tf.random.stateless_normal((batch, length, units), seed=[seed, length])
            for _ in range(warmup):
                step(inputs)
            gc.collect()  # no garbage collection (freeing older tensors) in the middle of a step
            walls, cpus, peaks = [], [], []
            for _ in range(repeats):
                tf.config.experimental.reset_memory_stats(device)
                before = tf.config.experimental.get_memory_info(device)["current"]
                wall, cpu = time.perf_counter(), time.process_time()
                result = step(inputs)
                tf.nest.map_structure(lambda t: t.numpy(), result)  # wait for the values
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
                peaks.append(tf.config.experimental.get_memory_info(device)["peak"] - before)
                del result
            rows.append(
                {
                    "kind": kind,
                    "length": length,
                    "seconds": statistics.median(walls),
                    "cpu_seconds": statistics.median(cpus),
                    "peak_bytes": int(statistics.median(peaks)),
                    "repeats": repeats,
                    "all_seconds": walls,
                    "all_cpu_seconds": cpus,
                }
            )
    return rows


def fit_slope(lengths, values, min_length=None):
    """Least-squares fit of ``log values = slope · log lengths + intercept``.

    Args:
        lengths, values: positive numbers (e.g. ``T`` and seconds or bytes per step).
        min_length: fit only the points with ``length >= min_length`` (small ``T`` is dominated by
            fixed per-call costs, which flatten the curve).

    Returns:
        ``(slope, intercept)``: ``values ≈ exp(intercept) · lengths ** slope``; a slope near 2 is
        quadratic growth, near 1 linear.
    """
    lengths, values = np.asarray(lengths, float), np.asarray(values, float)
    keep = lengths >= (min_length or 0)
    if keep.sum() < 2 or len(set(lengths[keep].tolist())) < 2:
        raise ValueError(
            f"need at least two different lengths >= min_length={min_length} to fit a slope"
        )
    if np.any(lengths[keep] <= 0) or np.any(values[keep] <= 0):
        raise ValueError("lengths and values must be positive to fit on log-log axes")
    slope, intercept = np.polyfit(np.log(lengths[keep]), np.log(values[keep]), 1)
    return float(slope), float(intercept)
