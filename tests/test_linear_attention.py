"""LinearAttention (ML2021 L11; Katharopoulos et al.

2020): parallel ≡ recurrent, causality, padding.
"""

import keras
import numpy as np
import pytest

from mlcourse.layers import LinearAttention


def _sequence(batch=2, length=7, features=8, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, length, features)).astype("float32")


def _numpy_reference(layer, x, causal):
    """b^i = Σ_j φ(q^i)·φ(k^j) v^j / Σ_j φ(q^i)·φ(k^j), written out with explicit loops in NumPy."""

    def phi(a):  # elu(a) + 1
        return np.where(a > 0, a + 1.0, np.exp(a))

    w = {v.name: keras.ops.convert_to_numpy(v) for v in layer.weights}
    q = phi(np.einsum("btf,fhd->bhtd", x, w["query_kernel"]) + w["query_bias"][None, :, None])
    k = phi(np.einsum("btf,fhd->bhtd", x, w["key_kernel"]) + w["key_bias"][None, :, None])
    v = np.einsum("btf,fhd->bhtd", x, w["value_kernel"]) + w["value_bias"][None, :, None]
    weights = np.einsum("bhid,bhjd->bhij", q, k)
    if causal:
        weights = weights * np.tril(np.ones(weights.shape[-2:]))
    heads = np.einsum("bhij,bhjd->bhid", weights, v) / (
        weights.sum(-1, keepdims=True) + layer.epsilon
    )
    return np.einsum("bhtd,hdo->bto", heads, w["output_kernel"]) + w["output_bias"]


@pytest.mark.parametrize("causal", [True, False])
def test_parallel_form_matches_the_definition(causal):
    x = _sequence()
    layer = LinearAttention(8, num_heads=2, causal=causal)
    out = keras.ops.convert_to_numpy(layer(x))
    np.testing.assert_allclose(out, _numpy_reference(layer, x, causal), atol=1e-5)


def test_transformers_are_rnns_parallel_equals_recurrent():
    x = _sequence(length=12)
    layer = LinearAttention(8, num_heads=2, causal=True)
    parallel = keras.ops.convert_to_numpy(layer(x))
    recurrent = keras.ops.convert_to_numpy(layer.recurrent(x))
    assert np.abs(parallel).max() > 1e-3  # a non-trivial output
    np.testing.assert_allclose(parallel, recurrent, atol=1e-5)


def test_causal_output_ignores_the_future_and_non_causal_does_not():
    x = _sequence()
    changed = x.copy()
    changed[:, 4:] += 3.0
    causal = LinearAttention(8, num_heads=2, causal=True)
    a, b = (keras.ops.convert_to_numpy(causal(v)) for v in (x, changed))
    np.testing.assert_allclose(a[:, :4], b[:, :4], atol=1e-6)
    assert not np.allclose(a[:, 4:], b[:, 4:], atol=1e-3)
    full = LinearAttention(8, num_heads=2, causal=False)
    a, b = (keras.ops.convert_to_numpy(full(v)) for v in (x, changed))
    assert not np.allclose(a[:, :4], b[:, :4], atol=1e-3)


def test_padding_tokens_are_invisible():
    x = _sequence()
    mask = np.ones(x.shape[:2], bool)
    mask[:, 5:] = False
    changed = x.copy()
    changed[:, 5:] = 9.0
    layer = LinearAttention(8, num_heads=2, causal=False)
    a, b = (keras.ops.convert_to_numpy(layer(v, mask=mask)) for v in (x, changed))
    np.testing.assert_allclose(a[:, :5], b[:, :5], atol=1e-5)


def test_recurrent_needs_a_causal_layer():
    with pytest.raises(ValueError, match="causal"):
        LinearAttention(8, causal=False).recurrent(_sequence())


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"units": 8, "num_heads": 3}, "num_heads"),
        ({"units": 0}, "units"),
        ({"units": 8, "epsilon": 0.0}, "epsilon"),
        ({"units": 8, "causal": "yes"}, "causal"),
    ],
)
def test_bad_arguments(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        LinearAttention(**kwargs)
