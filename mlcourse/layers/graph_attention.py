"""Self-attention on a graph: a node attends only to the nodes the edges let it reach.

ML2021 L11, self-attention for graphs: the adjacency matrix *is* the attention mask. With the
student's multi-hop idea from the notes, each hop distance gets its own head (or its own weight).
"""

import keras
from keras import ops

from mlcourse.layers.attention import MultiHeadSelfAttention
from mlcourse.validation import check_bool, check_positive_int

__all__ = ["GraphSelfAttention", "hop_masks"]


def hop_masks(adjacency, hops):
    """Which nodes are exactly ``k`` hops away, for ``k = 1 … hops``.

    With ``R_0 = I`` and ``R_k = [R_{k−1} (A + I) > 0]`` (reachable in at most ``k`` steps), the
    ring of hop ``k`` is ``R_k ∧ ¬R_{k−1}`` — the nodes at shortest-path distance exactly ``k``.
    Hop 1 also contains the node itself (``R_1``), as in graph attention networks, so every node
    sees at least itself. A non-zero ``A_{ij}`` is an edge ``i → j`` (``i`` may attend to ``j``).

    Args:
        adjacency: ``(N, N)`` or ``(batch, N, N)``; non-zero entries are edges.
        hops: how many rings.

    Returns:
        a boolean ``(batch or 1, hops, N, N)`` tensor.
    """
    adjacency = ops.cast(ops.not_equal(adjacency, 0), "float32")
    if len(adjacency.shape) == 2:
        adjacency = adjacency[None]
    step = ops.minimum(adjacency + ops.eye(ops.shape(adjacency)[-1], dtype="float32")[None], 1.0)
    reach = step  # R_1
    rings = [ops.greater(reach, 0.5)]
    for _ in range(hops - 1):
        wider = ops.minimum(ops.matmul(reach, step), 1.0)
        rings.append(ops.logical_and(ops.greater(wider, 0.5), ops.less(reach, 0.5)))
        reach = wider
    return ops.stack(rings, axis=1)


@keras.saving.register_keras_serializable(package="mlcourse")
class GraphSelfAttention(MultiHeadSelfAttention):
    """Self-attention restricted to a graph's edges, with one head (or weight) per hop distance.

    ML2021 L11, self-attention for graphs, and the student's multi-hop idea. With ``S_k(i)`` the
    nodes at shortest-path distance ``k`` from node ``i`` (``S_1(i)`` includes ``i`` itself; see
    ``hop_masks``)::

        b^{i,k} = Σ_{j ∈ S_k(i)} softmax_{j ∈ S_k(i)}(q^{i,k} · k^{j,k} / √d) v^{j,k}
                  (b^{i,k} = 0 when S_k(i) is empty)

    * ``separate_heads=True``: hop ``k`` is its own head with its own ``W^{q,k}, W^{k,k},
      W^{v,k}``, and ``b^i = Σ_k W^{o,k} b^{i,k} + c`` (multi-head attention whose head ``k`` is
      masked to the ``k``-hop ring);
    * ``separate_heads=False``: one shared ``W^q, W^k, W^v``, and the rings are mixed by learned
      weights: ``b^i = W^o Σ_k w_k b^{i,k} + c`` (``w_k = 1`` at the start).

    A node never sees a node farther than ``hops``: changing such a node's features leaves its
    output unchanged.

    Args:
        units: ``d``, the width of each head and of the output.
        hops: how many hop distances (1 is plain graph attention).
        separate_heads: one head per hop (True) or shared projections with per-hop weights (False).
        use_bias, kernel_initializer, bias_initializer: as in ``MultiHeadSelfAttention``.

    Call arguments:
        inputs: a list ``[features, adjacency]``: ``(batch, N, F)`` node features and the
            adjacency, ``(batch, N, N)`` or ``(N, N)`` (non-zero = edge).
        return_attention_scores: also return the attention weights.

    Returns:
        ``(batch, N, units)``, and with ``return_attention_scores=True`` also the weights
        ``(batch, hops, N, N)`` (row ``i`` of hop ``k`` is zero where ``S_k(i)`` is empty).
    """

    def __init__(
        self,
        units,
        hops=1,
        separate_heads=True,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        units = check_positive_int("units", units)
        hops = check_positive_int("hops", hops)
        separate_heads = check_bool("separate_heads", separate_heads)
        heads = hops if separate_heads else 1
        super().__init__(
            units * heads,
            heads,
            output_dim=units,
            score="scaled_dot",
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            **kwargs,
        )
        self.hops = hops
        self.separate_heads = separate_heads
        self.supports_masking = False

    def build(self, input_shape):
        features_shape, _ = input_shape
        super().build(features_shape)
        self.hop_weights = (
            None
            if self.separate_heads
            else self.add_weight(name="hop_weights", shape=(self.hops,), initializer="ones")
        )

    def call(self, inputs, return_attention_scores=False):
        features, adjacency = inputs
        rings = hop_masks(adjacency, self.hops)  # (B or 1, hops, N, N)
        query, key, value = (self._heads(features, name) for name in ("query", "key", "value"))
        per_ring, weights = self._attend(
            query, key, value, rings, training=False
        )  # (B, hops, N, d)
        reaches_any = ops.cast(ops.any(rings, axis=-1), per_ring.dtype)  # empty ring -> no output
        per_ring = per_ring * reaches_any[..., None]
        weights = weights * ops.cast(reaches_any, weights.dtype)[..., None]
        if not self.separate_heads:  # (B, hops, N, d) -> (B, 1, N, d): Σ_k w_k b^{i,k}
            per_ring = ops.einsum("bknd,k->bnd", per_ring, self.hop_weights)[:, None]
        outputs = self._merge_heads(per_ring)
        return (outputs, weights) if return_attention_scores else outputs

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        features_shape, _ = input_shape
        return tuple(features_shape[:-1]) + (self.output_dim,)

    def get_config(self):
        return {
            **keras.layers.Layer.get_config(self),
            "units": self.output_dim,
            "hops": self.hops,
            "separate_heads": self.separate_heads,
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }
