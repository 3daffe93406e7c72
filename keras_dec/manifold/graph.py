"""The fuzzy k-nearest-neighbour graph UMAP trains on, built by umap-learn."""

from __future__ import annotations

import dataclasses

import numpy as np

from keras_dec.utils.validation import check_int

INSTALL_HINT = "pip install umap-learn pynndescent (keras-dec's dependencies)"
# Up to this many points the nearest neighbours are exact (scikit-learn, brute force: 6 s
# for 70,000 x 10 on 2 cores); above, umap-learn's approximate NN-descent finds them.
EXACT_NEIGHBOURS_MAX = 100_000


@dataclasses.dataclass(frozen=True)
class FuzzyGraph:
    """UMAP's fuzzy simplicial set of `n_points` points as weighted edges.

    Attributes:
        head, tail: int32 `(n_edges,)`, each edge's two points.
        weight: float32 `(n_edges,)`, the membership strength in (0, 1].
        n_points: int.
    """

    head: np.ndarray
    tail: np.ndarray
    weight: np.ndarray
    n_points: int

    def sample_edges(self, n_edges: int, rng: np.random.Generator) -> np.ndarray:
        """`n_edges` edge indices drawn with probability proportional to their weight.

        UMAP visits an edge in proportion to its weight (`epochs_per_sample`);
        drawing with those probabilities gives the same edges in expectation.
        """
        p = self.weight.astype("float64")
        return rng.choice(len(self.weight), size=n_edges, p=p / p.sum())


def fuzzy_graph(points: np.ndarray, n_neighbors: int = 20, seed: int | None = None,
                metric: str = "euclidean") -> FuzzyGraph:
    """The fuzzy k-NN graph of `points` (umap-learn's `fuzzy_simplicial_set`).

    The nearest neighbours are exact up to `EXACT_NEIGHBOURS_MAX` points
    (scikit-learn), approximate above (umap-learn's NN-descent). Edges
    below `weight.max() / 500` are dropped, as UMAP drops the edges it
    would sample less than once in its 500 epochs for small data.

    Args:
        points: float array `(n_points, dim)`.
        n_neighbors: int >= 2, the neighbourhood size (N2D: 20).
        seed: int or None, for the approximate nearest-neighbour search.
        metric: str, a metric umap-learn knows.

    Examples:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).random((60, 3)).astype("float32")
        >>> graph = fuzzy_graph(x, n_neighbors=5, seed=0)
        >>> graph.n_points, bool(graph.weight.max() <= 1.0), len(graph.head) > 60
        (60, True, True)
    """
    try:
        from umap.umap_ import fuzzy_simplicial_set
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(f"The manifold stage builds its graph with umap-learn: {INSTALL_HINT}"
                          ) from None
    n_neighbors = check_int("n_neighbors", n_neighbors, 2)
    points = np.asarray(points, dtype="float32")
    if len(points) <= n_neighbors:
        raise ValueError(f"`points` must have more rows than n_neighbors={n_neighbors}. "
                         f"Received: {len(points)} rows")
    random_state = np.random.RandomState(seed) if seed is not None else None
    knn = {}
    if len(points) <= EXACT_NEIGHBOURS_MAX:
        from sklearn.neighbors import NearestNeighbors

        distances, indices = NearestNeighbors(n_neighbors=n_neighbors, algorithm="brute",
                                              metric=metric).fit(points).kneighbors(points)
        knn = {"knn_indices": indices, "knn_dists": distances.astype("float32")}
    graph = fuzzy_simplicial_set(points, n_neighbors, random_state, metric, **knn)[0].tocoo()
    graph.sum_duplicates()
    keep = graph.data >= graph.data.max() / 500.0
    return FuzzyGraph(graph.row[keep].astype("int32"), graph.col[keep].astype("int32"),
                      graph.data[keep].astype("float32"), int(graph.shape[0]))
