"""Bad calls into every registered layer, after it was built on good inputs.

Each battery layer case is called once on its own inputs, then with: one axis too many, one too
few, a different last dimension, only its first input (layers with several), a mask one step too
long (layers whose ``call`` takes ``mask``) and an empty batch. Each bad call must end in a
``ValueError`` (Keras's ``InputSpec`` or the layer's own check), or be a documented way to call the
layer (``ACCEPTED``); an empty batch may also give an empty result. A raw backend error
(``InvalidArgumentError``, ``TypeError``, ``IndexError`` ...) or a silently accepted call fails.
``test_call_check_counts`` prints the totals.
"""

import inspect

import keras
import numpy as np
import pytest

import mlcourse

from battery import LayerCase
from battery_cases import all_cases

mlcourse.load_all()
LAYER_CASES = [c for c in all_cases() if isinstance(c, LayerCase)]
RESULTS = {}

#: Bad-looking calls that are valid for the layer, and why (as with its Keras twin).
ACCEPTED = {
    # Pooling is per channel: any number of channels, as keras.layers.MaxPooling2D.
    "ReceptiveFieldMaxPooling2D": {"different last dimension"},
    "ReceptiveFieldAveragePooling2D": {"different last dimension"},
    # Sequences (batch, T, d) and images (batch, H, W, C) are both attended.
    "DistanceDecayAttention": {"one axis too many"},
    # Any sequence length and width; position vectors are added feature-wise (no weights).
    "SinusoidalPositionalEncoding": {"different last dimension"},
}


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _pack(inputs):
    return inputs if len(inputs) > 1 else inputs[0]


def _bad_calls(case, inputs):
    """``(what, inputs, extra call kwargs)`` for each bad call of this case."""
    first, rest = inputs[0], inputs[1:]
    calls = [
        ("one axis too many", [first[..., None], *rest], {}),
        ("one axis too few", [first[0], *rest], {}),
        ("empty batch", [x[:0] for x in inputs], {}),
    ]
    if np.issubdtype(first.dtype, np.floating):
        wider = np.concatenate([first, first], axis=-1)
        calls.append(("different last dimension", [wider, *rest], {}))
    if rest:
        calls.append(("only the first input", [first], {}))
    layer_call = inspect.signature(case.make().call).parameters
    if "mask" in layer_call and first.ndim >= 2:
        long_mask = np.ones((first.shape[0], first.shape[1] + 1), bool)
        calls.append(("mask one step too long", inputs, {"mask": long_mask}))
    return calls


def _finite(outputs):
    for output in _as_list(outputs):
        array = keras.ops.convert_to_numpy(output)
        if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
            return False
    return True


def _judge(case, layer, what, inputs, kwargs):
    try:
        outputs = layer(_pack(inputs), **{**case.call_kwargs, **kwargs})
    except ValueError:
        return "clear", ""
    except Exception as error:  # noqa: BLE001 - the point is to see which
        return "raw", f"{type(error).__name__}: {str(error)[:160]}"
    if what == "empty batch":
        shapes = [tuple(o.shape) for o in _as_list(outputs)]
        ok = all(s and s[0] == 0 for s in shapes)
        return ("accepted", "") if ok else ("silent", f"gave {shapes}")
    if what in ACCEPTED.get(case.name, ()) and _finite(outputs):
        return "accepted", ""
    return "silent", "accepted"


@pytest.mark.parametrize("case", LAYER_CASES, ids=lambda c: c.name)
def test_bad_calls_end_in_a_value_error(case):
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    layer = case.make()
    inputs = _as_list(case.inputs())
    layer(_pack(inputs), **case.call_kwargs)  # built on good inputs
    outcomes = {
        what: _judge(case, layer, what, bad, kwargs)
        for what, bad, kwargs in _bad_calls(case, inputs)
    }
    RESULTS[case.name] = outcomes
    problems = {what: o for what, o in outcomes.items() if o[0] in ("raw", "silent")}
    assert not problems, problems


def test_call_check_counts(capsys):
    """Prints the totals of the bad calls above (run the whole file to see them)."""
    found = [verdict for outcomes in RESULTS.values() for verdict, _ in outcomes.values()]
    totals = {v: found.count(v) for v in ("clear", "accepted", "silent", "raw")}
    with capsys.disabled():
        print(f"\nbad calls: {len(found)} over {len(RESULTS)} layers, {totals}")
    if RESULTS:
        assert totals["silent"] == totals["raw"] == 0


def test_a_nan_pixel_passes_through_the_spatial_transformer_without_a_bad_gather():
    """NaN in the inputs is the user's data: it may spread, but never into a raw gather error."""
    keras.utils.set_random_seed(0)
    layer = mlcourse.layers.SpatialTransformer(localization_filters=(4,), localization_units=8)
    images = np.random.default_rng(0).random((2, 12, 12, 1)).astype("float32")
    images[0, 3, 3, 0] = np.nan
    outputs = keras.ops.convert_to_numpy(layer(images))
    assert outputs.shape == (2, 12, 12, 1)
    assert np.isfinite(outputs[1]).all(), "the clean image is not touched by the other's NaN"
