"""Self-attention on a graph: a node attends only to the nodes the edges let it reach.

ML2021 L11, self-attention for graphs: the adjacency matrix *is* the attention mask. With the
student's multi-hop idea from the notes, each hop distance gets its own head (or its own weight).
"""

import keras
from keras import ops

from mlcourse.layers.attention import AttentionLayer, MultiHeadSelfAttention, check_sequence_shape
from mlcourse.layers.inputs import input_spec
from mlcourse.validation import MAX_SIZE, check_bool, check_positive_int

__all__ = ["MAX_HOPS", "GraphSelfAttention", "hop_masks"]

#: The most hop distances (each one costs an N × N matrix product and an N × N mask).
MAX_HOPS = 64


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
class GraphSelfAttention(AttentionLayer):
    """Self-attention restricted to a graph's edges, with one head (or weight) per hop distance.

    ML2021 L11, self-attention for graphs, and the student's multi-hop idea. With ``S_k(i)`` the
    nodes at shortest-path distance ``k`` from node ``i`` (``S_1(i)`` includes ``i`` itself; see
    ``hop_masks``)::

        b^{i,k} = Σ_{j ∈ S_k(i)} softmax_{j ∈ S_k(i)}(q^{i,k} · k^{j,k} / √d) v^{j,k}
                  (b^{i,k} = 0 when S_k(i) is empty)

    * ``separate_heads=True``: hop ``k`` is its own head with its own ``W^{q,k}, W^{k,k}, W^{v,k}``,
      and ``b^i = Σ_k W^{o,k} b^{i,k} + c`` (multi-head attention whose head ``k`` is masked to the
      ``k``-hop ring);
    * ``separate_heads=False``: one shared ``W^q, W^k, W^v``, and the rings are mixed by learned
      weights: ``b^i = W^o Σ_k w_k b^{i,k} + c`` (``w_k = 1`` at the start).

    A node never sees a node farther than ``hops``: changing such a node's features leaves its
    output unchanged.

    Args:
        units: ``d``, the width of each head and of the output.
        hops: how many hop distances (1 is plain graph attention).
        separate_heads: one head per hop (True) or shared projections with per-hop weights (False).
        use_bias, kernel_initializer, bias_initializer: as in ``MultiHeadSelfAttention``, whose
            projections it holds as ``heads`` (one head per hop, or one head).

    Call arguments:
        inputs: a list ``[features, adjacency]``: ``(batch, N, F)`` node features and the
            adjacency, ``(batch, N, N)`` or ``(N, N)`` (non-zero = edge).
        return_attention_scores: also return the attention weights.

    Returns:
        ``(batch, N, units)``, and with ``return_attention_scores=True`` also the weights
        ``(batch, hops, N, N)`` (row ``i`` of hop ``k`` is zero where ``S_k(i)`` is empty).
    """

    shared_arguments = ("use_bias", "kernel_initializer", "bias_initializer")

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
        super().__init__(
            score="scaled_dot",
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            **kwargs,
        )
        self.units = check_positive_int("units", units, high=MAX_SIZE)
        self.hops = check_positive_int("hops", hops, high=MAX_HOPS)
        self.separate_heads = check_bool("separate_heads", separate_heads)
        heads = self.hops if self.separate_heads else 1
        self.heads = MultiHeadSelfAttention(  # the projections: W^{q,k}, W^{k,k}, W^{v,k}, W^o
            self.units * heads,
            heads,
            output_dim=self.units,
            use_bias=self.use_bias,
            kernel_initializer=self.kernel_initializer,
            bias_initializer=self.bias_initializer,
            dtype=self.dtype_policy,
            name="heads",
        )
        self.supports_masking = False

    @property
    def num_heads(self):
        """How many heads the layer's projections have."""
        return self.heads.num_heads

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2:
            raise ValueError(
                "GraphSelfAttention expects inputs [features, adjacency], got input_shape="
                f"{input_shape}"
            )
        features_shape, adjacency_shape = input_shape
        check_sequence_shape(self, features_shape)
        if (
            len(adjacency_shape) not in (2, 3)
            or tuple(adjacency_shape[-2:])
            != (
                features_shape[1],
                features_shape[1],
            )
            and None not in (features_shape[1], *adjacency_shape[-2:])
        ):
            raise ValueError(
                "the adjacency must be (N, N) or (batch, N, N) for N nodes, got features "
                f"{tuple(features_shape)} and adjacency {tuple(adjacency_shape)}"
            )
        self.heads.build(features_shape)
        self.input_spec = [
            input_spec(features_shape),
            input_spec(adjacency_shape, min_ndim=2, max_ndim=3, axes=()),
        ]
        self.hop_weights = (
            None
            if self.separate_heads
            else self.add_weight(name="hop_weights", shape=(self.hops,), initializer="ones")
        )

    def call(self, inputs, return_attention_scores=False):
        features, adjacency = inputs  # build and the input specs checked the pair
        rings = hop_masks(adjacency, self.hops)  # (B or 1, hops, N, N)
        query, key, value = (
            self.heads.project(features, name) for name in ("query", "key", "value")
        )
        per_ring, weights = self.attend(query, key, value, rings)  # (B, hops, N, d)
        reaches_any = ops.cast(ops.any(rings, axis=-1), per_ring.dtype)  # empty ring -> no output
        per_ring = per_ring * reaches_any[..., None]
        weights = weights * ops.cast(reaches_any, weights.dtype)[..., None]
        if not self.separate_heads:  # (B, hops, N, d) -> (B, 1, N, d): Σ_k w_k b^{i,k}
            per_ring = ops.einsum("bknd,k->bnd", per_ring, self.hop_weights)[:, None]
        outputs = self.heads.merge(per_ring)
        return (outputs, weights) if return_attention_scores else outputs

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        features_shape, _ = input_shape
        return tuple(features_shape[:-1]) + (self.units,)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "hops": self.hops,
            "separate_heads": self.separate_heads,
        }
