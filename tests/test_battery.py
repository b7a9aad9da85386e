"""The shared battery: the same checks for every public layer, optimizer and schedule."""

import keras
import numpy as np
import pytest

import mlcourse

from battery import LayerCase, ObjectCase, OptimizerCase, ScheduleCase
from battery_cases import all_cases

pytestmark = pytest.mark.backends  # run on every Keras backend (see tests/conftest.py)

mlcourse.load_all()  # registers every public object
CASES = all_cases()
PACKAGE = "mlcourse>"


def _ids(cases):
    return [case.name for case in cases]


def _of(kind):
    return [case for case in CASES if isinstance(case, kind)]


def _registered_names():
    return sorted(
        k[len(PACKAGE) :] for k in keras.saving.get_custom_objects() if k.startswith(PACKAGE)
    )


def test_every_registered_object_has_exactly_one_case():
    names = _ids(CASES)
    assert len(names) == len(set(names)), "duplicate battery cases"
    missing = sorted(set(_registered_names()) - set(names))
    assert not missing, f"registered but not in the battery: {missing}"
    unknown = sorted(set(names) - set(_registered_names()))
    assert not unknown, f"battery cases for unregistered names: {unknown}"


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _functional_model(case):
    inputs = _as_list(case.inputs())
    symbolic = [
        keras.Input(shape=a.shape[1:], dtype=str(a.dtype), batch_size=a.shape[0]) for a in inputs
    ]
    symbolic = symbolic if len(symbolic) > 1 else symbolic[0]
    outputs = case.make()(symbolic, **case.call_kwargs)
    return keras.Model(symbolic, outputs), inputs


def _predict(model, inputs):
    out = model(inputs if len(inputs) > 1 else inputs[0], training=False)
    return [keras.ops.convert_to_numpy(o) for o in _as_list(out)]


@pytest.mark.parametrize("case", _of(LayerCase), ids=_ids(_of(LayerCase)))
class TestLayer:
    def test_registered_name(self, case):
        layer = case.make()
        assert keras.saving.get_registered_name(type(layer)) == PACKAGE + case.name

    def test_config_round_trip(self, case):
        layer = case.make()
        config = layer.get_config()
        clone = type(layer).from_config(config)
        assert clone.get_config() == config

    def test_build_creates_all_state(self, case):
        layer = case.make()
        inputs = _as_list(case.inputs())
        shapes = [a.shape for a in inputs]
        layer.build(shapes if len(shapes) > 1 else shapes[0])
        assert layer.built
        before = sorted(v.path for v in layer.variables)
        layer(inputs if len(inputs) > 1 else inputs[0], **case.call_kwargs)
        after = sorted(v.path for v in layer.variables)
        assert before == after, "call() created state that build() did not"

    def test_keras_file_round_trip(self, case, tmp_path):
        model, inputs = _functional_model(case)
        path = tmp_path / "model.keras"
        model.save(path)
        reloaded = keras.saving.load_model(path, safe_mode=True)
        for a, b in zip(_predict(model, inputs), _predict(reloaded, inputs), strict=True):
            np.testing.assert_allclose(a, b, atol=case.atol, rtol=0)

    def test_mixed_float16(self, case):
        keras.mixed_precision.set_global_policy("mixed_float16")
        model, inputs = _functional_model(case)
        for out in _predict(model, inputs):
            if np.issubdtype(out.dtype, np.floating):
                assert np.all(np.isfinite(out))
        layer = model.layers[-1]
        assert layer.compute_dtype == "float16"
        assert all(v.dtype == "float32" for v in layer.trainable_variables)

    def test_bad_arguments_name_the_argument(self, case):
        assert case.bad_args, f"{case.name}: give at least one rejected argument"
        for bad in case.bad_args:
            with pytest.raises(ValueError, match=bad.argument):
                bad.make()

    def test_compute_output_shape_equals_the_real_output_shape(self, case):
        layer, inputs = case.make(), _as_list(case.inputs())
        outputs = _as_list(layer(_unlisted(inputs), **case.call_kwargs))
        declared = layer.compute_output_shape(_unlisted([a.shape for a in inputs]))
        declared = declared if isinstance(declared, list) else [declared]
        if len(outputs) > 1 and not isinstance(declared[0], (tuple, list)):
            declared = [declared]
        assert [tuple(s) for s in declared[: len(outputs)]] == [tuple(o.shape) for o in outputs]

    def test_training_steps_move_every_trainable_weight(self, case):
        keras.utils.set_random_seed(0)
        layer, inputs = case.make(), _as_list(case.inputs())
        symbolic = _symbolic(inputs)
        output = _as_list(layer(_unlisted(symbolic), **case.call_kwargs))[0]
        model = keras.Model(_unlisted(symbolic), output)
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        target = np.random.default_rng(0).normal(size=output.shape).astype("float32")
        before = [keras.ops.convert_to_numpy(v) for v in layer.trainable_variables]
        if not before:
            pytest.skip(f"{case.name} has no trainable weights")
        for _ in range(case.steps_to_move):
            model.train_on_batch(_unlisted(inputs), target)
        still = [
            v.path
            for v, old in zip(layer.trainable_variables, before, strict=True)
            if np.array_equal(keras.ops.convert_to_numpy(v), old)
        ]
        assert not still, f"not moved by {case.steps_to_move} step(s): {still}"

    def test_own_dtype_policy_sets_the_output_dtype(self, case):
        config = {**case.make().get_config(), "dtype": "mixed_float16"}
        layer = type(case.make()).from_config(config)  # the global policy stays float32
        inputs = _as_list(case.inputs())
        real = _as_list(layer(_unlisted(inputs), **case.call_kwargs))
        symbolic = _as_list(
            type(layer).from_config(config)(_unlisted(_symbolic(inputs)), **case.call_kwargs)
        )
        assert layer.compute_dtype == "float16"
        assert all(v.dtype == "float32" for v in layer.trainable_variables)
        assert keras.backend.standardize_dtype(real[0].dtype) == "float16"
        assert symbolic[0].dtype == "float16"


def _unlisted(items):
    return items if len(items) > 1 else items[0]


def _symbolic(inputs):
    return [
        keras.Input(shape=a.shape[1:], dtype=str(a.dtype), batch_size=a.shape[0]) for a in inputs
    ]


def _tiny_regression(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x @ rng.normal(size=(4, 1)) + 0.1).astype("float32")
    return x, y


def _tiny_model(optimizer):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(1)]
    )
    model.compile(optimizer=optimizer, loss="mse")
    return model


@pytest.mark.parametrize("case", _of(OptimizerCase), ids=_ids(_of(OptimizerCase)))
class TestOptimizer:
    def test_registered_name(self, case):
        assert keras.saving.get_registered_name(type(case.make())) == PACKAGE + case.name

    def test_config_round_trip(self, case):
        optimizer = case.make()
        config = optimizer.get_config()
        clone = type(optimizer).from_config(config)
        assert clone.get_config() == config

    def test_reload_continues_training_identically(self, case, tmp_path):
        x, y = _tiny_regression()
        model = _tiny_model(case.make())
        model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        path = tmp_path / "model.keras"
        model.save(path)
        reloaded = keras.saving.load_model(path, safe_mode=True)
        assert type(reloaded.optimizer) is type(model.optimizer)
        model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        reloaded.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        for a, b in zip(model.get_weights(), reloaded.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)

    def test_mixed_float16(self, case):
        keras.mixed_precision.set_global_policy("mixed_float16")
        x, y = _tiny_regression()
        model = _tiny_model(case.make())
        history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
        assert np.all(np.isfinite(history.history["loss"]))
        assert all(v.dtype == "float32" for v in model.trainable_variables)

    def test_bad_arguments_name_the_argument(self, case):
        assert case.bad_args, f"{case.name}: give at least one rejected argument"
        for bad in case.bad_args:
            with pytest.raises(ValueError, match=bad.argument):
                bad.make()


@pytest.mark.parametrize("case", _of(ScheduleCase), ids=_ids(_of(ScheduleCase)))
class TestSchedule:
    def test_serialize_round_trip(self, case):
        schedule = case.make()
        assert keras.saving.get_registered_name(type(schedule)) == PACKAGE + case.name
        clone = keras.optimizers.schedules.deserialize(
            keras.optimizers.schedules.serialize(schedule)
        )
        assert clone.get_config() == schedule.get_config()
        for step in (0, 1, 10, 100, 1000):
            np.testing.assert_allclose(float(schedule(step)), float(clone(step)), rtol=1e-7)

    def test_optimizer_with_schedule_reloads(self, case, tmp_path):
        x, y = _tiny_regression()
        model = _tiny_model(keras.optimizers.SGD(learning_rate=case.make()))
        model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
        model.save(tmp_path / "m.keras")
        reloaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
        model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
        reloaded.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
        for a, b in zip(model.get_weights(), reloaded.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)

    def test_bad_arguments_name_the_argument(self, case):
        assert case.bad_args, f"{case.name}: give at least one rejected argument"
        for bad in case.bad_args:
            with pytest.raises(ValueError, match=bad.argument):
                bad.make()


@pytest.mark.parametrize("case", _of(ObjectCase), ids=_ids(_of(ObjectCase)))
class TestObject:
    def test_config_round_trip(self, case):
        obj = case.make()
        assert keras.saving.get_registered_name(type(obj)) == PACKAGE + case.name
        clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(obj))
        assert clone.get_config() == obj.get_config()

    def test_bad_arguments_name_the_argument(self, case):
        assert case.bad_args, f"{case.name}: give at least one rejected argument"
        for bad in case.bad_args:
            with pytest.raises(ValueError, match=bad.argument):
                bad.make()
