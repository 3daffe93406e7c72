"""UMAP's objective in `keras.ops`, so that it trains on TensorFlow, JAX and PyTorch."""

from __future__ import annotations

from keras import ops

# Probabilities are clipped to [EPS, 1] before the logarithm, as umap-learn's
# parametric UMAP does.
EPS = 1e-4


def umap_ab(min_dist: float = 0.0, spread: float = 1.0) -> tuple[float, float]:
    """`(a, b)` of UMAP's low-dimensional similarity `1 / (1 + a d^(2b))` (umap-learn's fit).

    Examples:
        >>> a, b = umap_ab(0.0)
        >>> round(a, 3), round(b, 3)
        (1.933, 0.79)
    """
    from umap.umap_ import find_ab_params

    a, b = find_ab_params(spread, min_dist)
    return float(a), float(b)


def umap_cross_entropy(anchors, positives, negatives, a: float, b: float,
                       repulsion_strength: float = 1.0):
    """UMAP's per-edge cross-entropy with negative sampling; the mean over all pairs.

    The positive pairs `(anchors[i], positives[i])` are graph edges, with
    target similarity 1; each anchor's `m` negative pairs
    `(anchors[i], negatives[i, j])` are random points, with target 0. The
    similarity of two points at distance d is `q = 1 / (1 + a d^(2b))`,
    computed as `1 / (1 + a (d^2 + 1e-12)^b)`, whose gradient is finite at d = 0.

    Args:
        anchors: `(batch, dim)` embeddings.
        positives: `(batch, dim)` embeddings of their graph neighbours.
        negatives: `(batch, m, dim)` embeddings of random points.
        a, b: floats, from `umap_ab`.
        repulsion_strength: float, the weight of the negative pairs' term.

    Returns:
        A scalar: the mean of `-log q` over positive pairs and of
        `-repulsion_strength * log(1 - q)` over negative pairs, all pairs
        counted alike (umap-learn's `compute_cross_entropy`).

    Examples:
        >>> import numpy as np
        >>> z = np.zeros((1, 2), "float32")
        >>> far = np.full((1, 1, 2), 10.0, "float32")
        >>> round(float(umap_cross_entropy(z, z, far, 1.0, 1.0)), 4)  # (0 + -log(200/201)) / 2
        0.0025
    """
    def similarity(u, v):
        squared = ops.sum(ops.square(u - v), axis=-1)
        return 1.0 / (1.0 + a * ops.power(squared + 1e-12, b))

    attract = -ops.log(ops.clip(similarity(anchors, positives), EPS, 1.0))
    repel = -ops.log(ops.clip(1.0 - similarity(ops.expand_dims(anchors, 1), negatives),
                              EPS, 1.0)) * repulsion_strength
    total = ops.sum(attract) + ops.sum(repel)
    count = ops.cast(ops.size(attract) + ops.size(repel), total.dtype)
    return total / count
