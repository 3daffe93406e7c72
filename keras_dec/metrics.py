"""Clustering quality: against known labels (ACC, NMI, ARI), and without them."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    normalized_mutual_info_score,
    silhouette_score,
)

# Silhouette costs O(n^2): above this many points it is estimated on a sample.
SILHOUETTE_SAMPLE = 5000


def _check_labels(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.ndim != 1 or y_pred.ndim != 1 or y_true.shape != y_pred.shape:
        raise ValueError(
            "`y_true` and `y_pred` must be 1-D arrays of the same length. Received: "
            f"y_true with shape {y_true.shape}, y_pred with shape {y_pred.shape}"
        )
    if y_true.size == 0:
        raise ValueError("`y_true` and `y_pred` are empty. Received: 0 labels")
    return y_true, y_pred


def cluster_accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Unsupervised clustering accuracy: the best one-to-one cluster->label match.

    ACC = max over mappings m of mean(y_true == m(y_pred)), solved by the
    Hungarian algorithm (`scipy.optimize.linear_sum_assignment`).

    Examples:
        >>> cluster_accuracy([0, 0, 1, 1], [1, 1, 0, 0])
        1.0
    """
    y_true, y_pred = _check_labels(y_true, y_pred)
    true_ids, true_idx = np.unique(y_true, return_inverse=True)
    pred_ids, pred_idx = np.unique(y_pred, return_inverse=True)
    counts = np.zeros((len(pred_ids), len(true_ids)), dtype=np.int64)
    np.add.at(counts, (pred_idx, true_idx), 1)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return float(counts[rows, cols].sum() / y_true.size)


def evaluate_clustering(y_true: ArrayLike, y_pred: ArrayLike) -> dict[str, float]:
    """ACC, NMI and ARI of a clustering against labels, as a dict.

    Examples:
        >>> evaluate_clustering([0, 0, 1, 1], [1, 1, 0, 0])
        {'acc': 1.0, 'nmi': 1.0, 'ari': 1.0}
    """
    y_true, y_pred = _check_labels(y_true, y_pred)
    return {
        "acc": cluster_accuracy(y_true, y_pred),
        "nmi": float(normalized_mutual_info_score(y_true, y_pred)),
        "ari": float(adjusted_rand_score(y_true, y_pred)),
    }


def label_free_indices(
    z: ArrayLike, labels: ArrayLike, seed: int | None = 0
) -> dict[str, float | None]:
    """Silhouette and Calinski-Harabasz of a clustering of the points `z` (no labels needed).

    Both grow with clusters that are compact and far apart (silhouette in
    [-1, 1]; Calinski-Harabasz unbounded). Silhouette is estimated on a
    seeded sample of `SILHOUETTE_SAMPLE` points when there are more. With
    a single cluster both are undefined and given as None.

    Examples:
        >>> z = np.array([[0.0], [0.1], [5.0], [5.1]])
        >>> round(label_free_indices(z, [0, 0, 1, 1])["silhouette"], 3)
        0.98
    """
    z = np.asarray(z, dtype="float64").reshape(len(z), -1)
    labels = np.asarray(labels)
    if labels.shape != (len(z),):
        raise ValueError(f"`labels` must have one label per point, shape ({len(z)},). "
                         f"Received: labels with shape {labels.shape}")
    if not 1 < len(np.unique(labels)) < len(z):
        return {"silhouette": None, "calinski_harabasz": None}
    sample = SILHOUETTE_SAMPLE if len(z) > SILHOUETTE_SAMPLE else None
    return {
        "silhouette": float(silhouette_score(z, labels, sample_size=sample, random_state=seed)),
        "calinski_harabasz": float(calinski_harabasz_score(z, labels)),
    }


def kl_to_target(q) -> float:
    """DEC's loss on soft assignments `q`: the mean KL(P || Q), P built from `q` itself.

    P is the paper's target, p_ij = (q_ij^2 / f_j) / sum_j'(q_ij'^2 / f_j')
    with f_j = sum_i q_ij over the rows of `q`; computed in float64.

    Examples:
        >>> kl_to_target(np.array([[1.0, 0.0], [0.0, 1.0]]))
        0.0
    """
    q = np.asarray(q, dtype="float64")
    if q.ndim != 2 or not len(q):
        raise ValueError(f"`q` must have shape (n_samples, n_clusters). Received: q with shape "
                         f"{q.shape}")
    p = q**2 / np.maximum(q.sum(axis=0), 1e-12)
    p /= p.sum(axis=1, keepdims=True)
    tiny = 1e-12
    return float(np.mean(np.sum(p * (np.log(np.maximum(p, tiny)) - np.log(np.maximum(q, tiny))),
                                axis=1)))
