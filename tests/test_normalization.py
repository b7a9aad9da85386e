"""mlcourse.layers.normalization against the Keras twins and the lecture's claims (ML2021 L08)."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from backend import gradients, stateless_gradients

from mlcourse.layers import normalization as norm

TOL = 1e-5


def _data(shape, seed, loc=3.0, scale=2.0):
    return np.random.default_rng(seed).normal(loc, scale, size=shape).astype("float32")


def _close(a, b, atol=TOL):
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b), atol=atol, rtol=0
    )


def _randomize_affine(ours, twin, seed=7):
    """Same non-trivial gamma/beta in both (so the tests do not pass on gamma=1, beta=0 alone)."""
    rng = np.random.default_rng(seed)
    for name in ("gamma", "beta"):
        value = rng.normal(size=getattr(ours, name).shape).astype("float32")
        getattr(ours, name).assign(value)
        getattr(twin, name).assign(value)


# --- BatchNorm ------------------------------------------------------------------------------------

BN_SHAPES = [((16, 6), -1), ((8, 5, 5, 4), -1), ((8, 4, 5, 5), 1)]


@pytest.mark.backends
@pytest.mark.parametrize(
    "shape,axis", BN_SHAPES, ids=["dense", "conv-channels-last", "conv-channels-first"]
)
def test_batchnorm_equals_keras_in_training_moving_stats_and_inference(shape, axis):
    ours = norm.BatchNorm(axis=axis, momentum=0.8, epsilon=1e-3)
    twin = keras.layers.BatchNormalization(axis=axis, momentum=0.8, epsilon=1e-3)
    ours.build(shape), twin.build(shape)
    _randomize_affine(ours, twin)
    for step in range(5):
        x = _data(shape, seed=step, loc=3.0 + step)
        _close(ours(x, training=True), twin(x, training=True))
    # After 5 steps the moving statistics have moved well away from their (0, 1) start.
    assert np.all(np.abs(ours.moving_mean.numpy()) > 1.0)
    _close(ours.moving_mean, twin.moving_mean)
    _close(ours.moving_variance, twin.moving_variance)
    x = _data(shape, seed=99)
    _close(ours(x, training=False), twin(x, training=False))
    _close(ours(x[:1], training=False), twin(x[:1], training=False))


@pytest.mark.backends
def test_batchnorm_gradients_equal_keras():
    shape = (8, 5, 5, 4)
    ours, twin = norm.BatchNorm(momentum=0.5), keras.layers.BatchNormalization(momentum=0.5)
    ours.build(shape), twin.build(shape)
    _randomize_affine(ours, twin)
    x = keras.Variable(_data(shape, seed=3))
    weights = _data(shape, seed=4, loc=0.0)  # a loss that is not symmetric in the outputs

    def grads(layer):
        def loss():
            return keras.ops.sum(layer(x, training=True) * weights)

        return gradients(loss, [x, layer.gamma, layer.beta])[1]

    for a, b in zip(grads(ours), grads(twin), strict=True):
        _close(a, b, atol=1e-4)


@pytest.mark.backends
def test_batchnorm_trainable_false_runs_in_inference_mode_like_keras():
    ours = norm.BatchNorm()
    x = _data((8, 3), seed=0)
    ours.build(x.shape)
    ours.trainable = False
    _close(ours(x, training=True), ours(x, training=False))
    _close(ours.moving_mean, np.zeros(3))


def test_single_example_has_no_batch_statistics_so_training_mode_outputs_beta():
    """The lecture's testing problem: one example's batch variance is 0,
    every feature becomes beta.
    """
    layer = norm.BatchNorm(beta_initializer="random_normal")
    x = _data((1, 5), seed=0)
    layer.build(x.shape)
    _close(layer(x, training=True), layer.beta.numpy()[None, :])
    assert not np.allclose(layer(x, training=False), layer.beta.numpy()[None, :], atol=1e-2)


def test_gamma_sigma_beta_mu_undoes_the_normalization():
    """The student's question: with gamma = sqrt(var + eps) and beta = mu the layer returns its
    input.
    """
    x = _data((32, 6), seed=5)
    layer = norm.BatchNorm(epsilon=1e-3)
    layer.build(x.shape)
    layer.gamma.assign(np.sqrt(x.var(axis=0) + 1e-3))
    layer.beta.assign(x.mean(axis=0))
    _close(layer(x, training=True), x, atol=1e-4)
    assert (
        np.abs(
            keras.ops.convert_to_numpy(layer(x, training=True)).mean(axis=0) - x.mean(axis=0)
        ).max()
        < 1e-4
    )


def test_batchnorm_mixed_float16_matches_float32():
    x = _data(
        (16, 4, 4, 3), seed=2, loc=300.0, scale=100.0
    )  # x**2 ~ 1e5 would overflow float16's 65504
    reference = norm.BatchNorm()(x, training=True)
    keras.mixed_precision.set_global_policy("mixed_float16")
    layer = norm.BatchNorm()
    out = layer(x, training=True)
    assert out.dtype == "float16" and layer.moving_variance.dtype == "float32"
    _close(out, reference, atol=1e-2)


# --- BatchRenorm ----------------------------------------------------------------------------------


def test_batchrenorm_reduces_to_batchnorm_when_r_is_1_and_d_is_0():
    shape = (8, 5, 5, 4)
    renorm, plain = norm.BatchRenorm(rmax=1.0, dmax=0.0, momentum=0.7), norm.BatchNorm(momentum=0.7)
    renorm.build(shape), plain.build(shape)
    _randomize_affine(renorm, plain)
    weights = tf.constant(_data(shape, seed=11, loc=0.0))
    for step in range(4):
        x = tf.constant(_data(shape, seed=step, loc=2.0 * step))
        grads = []
        for layer in (renorm, plain):
            with tf.GradientTape() as tape:
                tape.watch(x)
                out = layer(x, training=True)
                loss = tf.reduce_sum(out * weights)
            grads.append((out, *tape.gradient(loss, [x, layer.gamma, layer.beta])))
        for a, b in zip(*grads, strict=True):
            _close(a, b, atol=1e-4)
    _close(renorm.moving_mean, plain.moving_mean)


@pytest.mark.backends
def test_batchrenorm_equals_keras_renorm_with_clipping():
    shape, rmax, dmax = (8, 5, 5, 4), 1.5, 0.5
    ours = norm.BatchRenorm(momentum=0.8, rmax=rmax, dmax=dmax)
    twin = keras.layers.BatchNormalization(
        momentum=0.8,
        renorm=True,
        renorm_momentum=0.8,
        renorm_clipping={"rmin": 1 / rmax, "rmax": rmax, "dmax": dmax},
    )
    ours.build(shape), twin.build(shape)
    _randomize_affine(ours, twin)
    for step in range(5):
        x = _data(shape, seed=step, loc=3.0, scale=4.0)
        if step == 0:  # the clips bite: batch std 4 vs moving 1, mean 3 vs moving 0
            assert x.std() / 1.0 > rmax and x.mean() > dmax
        _close(ours(x, training=True), twin(x, training=True), atol=1e-4)
    _close(ours.moving_mean, twin.moving_mean)
    _close(ours.moving_stddev, twin.moving_stddev)
    x = _data(shape, seed=42, loc=3.0, scale=4.0)
    _close(ours(x, training=False), twin(x, training=False), atol=1e-4)


def test_batchrenorm_without_clipping_trains_on_inference_statistics():
    """r, d unclipped: the training output is gamma (x - moving mu) / moving sigma + beta."""
    layer = norm.BatchRenorm(rmax=1e6, dmax=1e6, momentum=0.5)
    x = _data((16, 3), seed=8, loc=2.0)
    layer.build(x.shape)
    _randomize_affine(layer, layer)
    mean, stddev = layer.moving_mean.numpy(), layer.moving_stddev.numpy()
    gamma, beta = layer.gamma.numpy(), layer.beta.numpy()
    _close(layer(x, training=True), gamma * (x - mean) / stddev + beta, atol=1e-4)


# --- LayerNorm, GroupNorm, InstanceNorm -----------------------------------------------------------


@pytest.mark.backends
@pytest.mark.parametrize("shape,axis", [((6, 10), -1), ((4, 5, 5, 8), [1, 2, 3]), ((4, 7, 8), -1)])
def test_layernorm_equals_keras(shape, axis):
    ours, twin = (
        norm.LayerNorm(axis=axis, epsilon=1e-3),
        keras.layers.LayerNormalization(axis=axis, epsilon=1e-3),
    )
    ours.build(shape), twin.build(shape)
    _randomize_affine(ours, twin)
    x = _data(shape, seed=1)
    _close(ours(x), twin(x))


@pytest.mark.backends
@pytest.mark.parametrize(
    "shape,axis,groups", [((4, 5, 5, 8), -1, 4), ((4, 8, 5, 5), 1, 2), ((4, 7, 6), -1, 1)]
)
def test_groupnorm_equals_keras(shape, axis, groups):
    ours = norm.GroupNorm(groups=groups, axis=axis)
    twin = keras.layers.GroupNormalization(groups=groups, axis=axis)
    ours.build(shape), twin.build(shape)
    _randomize_affine(ours, twin)
    x = _data(shape, seed=2)
    _close(ours(x), twin(x))


@pytest.mark.backends
@pytest.mark.parametrize("shape,axis", [((4, 5, 5, 8), -1), ((4, 8, 5, 5), 1), ((4, 9, 3), -1)])
def test_instancenorm_equals_keras_groupnorm_with_one_channel_per_group(shape, axis):
    ours = norm.InstanceNorm(axis=axis)
    twin = keras.layers.GroupNormalization(groups=shape[axis], axis=axis)
    ours.build(shape), twin.build(shape)
    _randomize_affine(ours, twin)
    x = _data(shape, seed=3)
    _close(ours(x), twin(x))


def test_per_example_norms_do_not_depend_on_the_rest_of_the_batch():
    x = _data((4, 5, 5, 8), seed=4)
    for layer in (norm.LayerNorm(), norm.GroupNorm(groups=2), norm.InstanceNorm()):
        _close(layer(x)[:1], layer(x[:1]))


# --- WeightNorm, SpectralNorm ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "make,shape",
    [
        (lambda: keras.layers.Dense(5, activation="tanh"), (3, 7)),
        (lambda: keras.layers.Conv2D(4, 3, activation="relu"), (2, 6, 6, 3)),
    ],
    ids=["dense", "conv2d"],
)
def test_weightnorm_keeps_the_wrapped_layer_at_init_and_separates_length(make, shape):
    inner = make()
    x = _data(shape, seed=5, loc=0.0)
    reference = inner(x)
    wrapped = norm.WeightNorm(inner)
    _close(wrapped(x), reference)
    wrapped.g.assign(np.arange(1, wrapped.g.shape[0] + 1, dtype="float32"))
    effective = keras.ops.convert_to_numpy(
        norm.WeightNorm._column_norms(
            wrapped.layer.kernel * (wrapped.g / norm.WeightNorm._column_norms(wrapped.layer.kernel))
        )
    )
    _close(effective, wrapped.g, atol=1e-5)
    # Gradients reach both the direction (the wrapped kernel) and the length g.
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(wrapped(x) ** 2)
    grads = tape.gradient(loss, [wrapped.g, wrapped.layer.kernel])
    assert all(g is not None and np.any(g.numpy() != 0) for g in grads)


def test_weightnorm_output_scales_with_g_not_with_v():
    inner = keras.layers.Dense(3)  # linear, no bias effect at init (zeros)
    wrapped = norm.WeightNorm(inner)
    x = _data((4, 6), seed=6, loc=0.0)
    before = keras.ops.convert_to_numpy(wrapped(x))
    inner.kernel.assign(inner.kernel * 10.0)  # v longer: no change
    _close(wrapped(x), before)
    wrapped.g.assign(wrapped.g * 2.0)  # g twice: twice the output
    _close(wrapped(x), 2.0 * before)


@pytest.mark.backends
@pytest.mark.parametrize(
    "make,shape",
    [(lambda: keras.layers.Dense(5), (3, 7)), (lambda: keras.layers.Conv2D(4, 3), (2, 6, 6, 3))],
    ids=["dense", "conv2d"],
)
def test_spectralnorm_equals_keras_in_training(make, shape):
    inner, twin_inner = make(), make()
    x = _data(shape, seed=7, loc=0.0)
    ours, twin = (
        norm.SpectralNorm(inner, power_iterations=1),
        keras.layers.SpectralNormalization(twin_inner),
    )
    ours.build(shape), twin.build(shape)
    twin_inner.set_weights(inner.get_weights())
    twin.vector_u.assign(ours.vector_u)
    for _ in range(4):
        _close(ours(x, training=True), twin(x, training=True))
        _close(ours.vector_u, twin.vector_u)


def test_spectralnorm_makes_the_largest_singular_value_one():
    inner = keras.layers.Dense(6, use_bias=False)
    layer = norm.SpectralNorm(inner, power_iterations=50)
    x = np.eye(8, dtype="float32")  # identity inputs: the output is the effective kernel
    layer.build(x.shape)
    inner.kernel.assign(
        np.random.default_rng(0).normal(size=(8, 6)).astype("float32")
    )  # σ_max ≈ 5, not 1
    assert np.linalg.norm(inner.kernel.numpy(), 2) > 1.5
    effective = keras.ops.convert_to_numpy(layer(x, training=True))
    np.testing.assert_allclose(np.linalg.norm(effective, 2), 1.0, atol=1e-4)
    # Inference uses the stored u without moving it.
    u = layer.vector_u.numpy()
    _close(layer(x, training=False), effective, atol=1e-4)
    _close(layer.vector_u, u, atol=0)


# --- the gamma/beta logger and the tutorial -------------------------------------------------------


def test_normalization_parameter_logger_records_gamma_and_beta_moving(tmp_path):
    from mlcourse.callbacks import NormalizationParameterLogger

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(3), norm.BatchNorm(name="bn"), keras.layers.Dense(1)]
    )
    model.compile(keras.optimizers.SGD(0.1), "mse")
    logger = NormalizationParameterLogger(tmp_path)
    x, y = _data((64, 4), seed=0), _data((64, 1), seed=1)
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[logger])
    assert logger.history["bn/gamma/mean"][0] == 1.0 and len(logger.history["bn/gamma/mean"]) == 3
    assert logger.history["bn/beta/std"][-1] > 0  # beta moved away from its all-zero start
    assert list(tmp_path.glob("events.out.tfevents.*"))
    with pytest.raises(ValueError, match="every"):
        NormalizationParameterLogger(tmp_path, every=0)


@pytest.mark.slow
def test_tutorial_smoke_mode(smoke_run):
    import json

    run_dir = smoke_run("l08-batch-norm")
    state = json.loads((run_dir / "run.json").read_text())
    assert state["status"] == "complete"
    assert len([v for v in state["variants"] if v.startswith("bn-")]) == 2  # none, before
    tables = state["tables"]
    surface = {
        row["features"]: row for row in next(t for k, t in tables.items() if k.startswith("Part 1"))
    }
    assert surface["raw"]["condition number"] > 100 * surface["standardised"]["condition number"]
    undo = next(t for k, t in tables.items() if k.startswith("Part 4"))
    assert all(row["max |BN(z) - z|, gamma=sigma, beta=mu"] < 1e-4 for row in undo)
    single = next(t for k, t in tables.items() if k.startswith("Part 5"))
    assert "1 distinct prediction" in single[2]["note"]
    assert (run_dir / "error_surface.png").exists()
    trial = run_dir / "bn-before_batch-128_lr-0.01_seed0"
    assert list((trial / "pre_activations").glob("events.out.tfevents.*"))
    assert list((trial / "gamma_beta").glob("events.out.tfevents.*"))
    assert len(state["verdicts"]) == 5


SYNCHRONIZED = r"""
import json, os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras, numpy as np
from mlcourse.layers import BatchNorm
rng = np.random.default_rng(0)
halves = [rng.normal(0, 1, (8, 3)), rng.normal(5, 3, (8, 3))]  # the replicas see different data
halves = [h.astype("float32") for h in halves]
whole = BatchNorm(momentum=0.5)
expected = whole(np.concatenate(halves), training=True).numpy()
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
found = {}
for synchronized in (True, False):
    with strategy.scope():
        layer = BatchNorm(momentum=0.5, synchronized=synchronized)
        layer.build((None, 3))
    inputs = strategy.experimental_distribute_values_from_function(
        lambda ctx: halves[ctx.replica_id_in_sync_group]
    )
    step = tf.function(lambda x: strategy.run(lambda x: layer(x, training=True), args=(x,)))
    parts = strategy.experimental_local_results(step(inputs))
    found[str(synchronized)] = {
        "outputs": float(np.abs(np.concatenate([p.numpy() for p in parts]) - expected).max()),
        "moving_mean": float(np.abs(layer.moving_mean.numpy() - whole.moving_mean.numpy()).max()),
    }
print("RESULT", json.dumps(found))
"""


@pytest.mark.slow
def test_synchronized_batch_norm_on_two_replicas_equals_one_replica_on_the_whole_batch():
    """MirroredStrategy on 2 logical CPUs: with synchronized=True each replica normalises with the
    global batch's μ and σ² (and so updates the moving averages alike); without, it does not."""
    import json
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", SYNCHRONIZED], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    (line,) = [line for line in out.stdout.splitlines() if line.startswith("RESULT")]
    found = json.loads(line.split(" ", 1)[1])
    assert found["True"]["outputs"] < 1e-4 and found["True"]["moving_mean"] < 1e-5
    assert found["False"]["outputs"] > 0.1  # per-replica statistics differ from the global ones


def test_synchronized_is_checked():
    with pytest.raises(ValueError, match="synchronized"):
        norm.BatchNorm(synchronized="yes")


@pytest.mark.backends
@pytest.mark.parametrize("wrapper", [norm.WeightNorm, norm.SpectralNorm])
def test_the_wrapped_layers_bias_gets_its_gradient_through_stateless_call(wrapper):
    """On JAX the wrapper's kernel swap must not hide the wrapped layer's bias from an enclosing
    stateless scope (its gradient came out exactly 0, and fit crashed, before the fix)."""
    rng = np.random.default_rng(0)
    model = keras.Sequential([keras.Input((4,)), wrapper(keras.layers.Dense(3))])
    x = rng.normal(size=(5, 4)).astype("float32")
    weights = rng.normal(size=(5, 3)).astype("float32")
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]

    def loss(values):
        outputs, _ = model.stateless_call(values, non_trainable, x, training=True)
        return keras.ops.sum(outputs * weights)

    grads = stateless_gradients(loss, trainable)
    (bias,) = [i for i, v in enumerate(model.trainable_variables) if v.name == "bias"]
    # d/db Σ_nk (x_n W + b)_k w_nk = Σ_n w_nk, whatever the kernel
    np.testing.assert_allclose(grads[bias], weights.sum(axis=0), rtol=1e-5, atol=1e-6)
    assert all(np.abs(g).max() > 0 for g in grads), "every weight has a gradient"
