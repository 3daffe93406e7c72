"""Figures, drawn headless with matplotlib (the `plots` extra)."""

from __future__ import annotations

import os


def _pyplot():
    try:
        import matplotlib
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Plots need matplotlib: pip install 'keras-dec[plots]'."
        ) from None
    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    return plt


def plot_selection(result: dict, path: str | os.PathLike) -> str:
    """One panel per criterion of `select_n_clusters`' result against K; writes a PNG.

    The suggested K of each criterion is marked. Returns the path written.
    """
    plt = _pyplot()
    names = {"generalizability": "generalizability G = L_train / L_val",
             "silhouette": "silhouette (DEC embedding)",
             "calinski_harabasz": "Calinski-Harabasz (DEC embedding)"}
    ks = [row["n_clusters"] for row in result["table"]]
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.4),
                             constrained_layout=True)
    for ax, (key, title) in zip(axes, names.items(), strict=True):
        values = [row[key] for row in result["table"]]
        ax.plot(ks, [float("nan") if v is None else v for v in values], "o-")
        best = result["suggested"].get(key)
        if best is not None:
            ax.axvline(best, color="tab:red", linestyle="--", label=f"suggested K = {best}")
            ax.legend(loc="best", fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("number of clusters K")
        ax.set_xticks(ks)
    return _save(fig, path)


def _save(fig, path) -> str:
    from keras_dec.utils import atomic

    path = os.fspath(path)
    with atomic.atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    fig.clf()
    _pyplot().close(fig)
    return path


def top_samples(q, per_cluster: int = 10):
    """For each cluster j, the indices of the `per_cluster` points with the highest q_ij.

    Examples:
        >>> import numpy as np
        >>> top_samples(np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]), per_cluster=2).tolist()
        [[0, 2], [1, 2]]
    """
    import numpy as np

    q = np.asarray(q)
    per_cluster = min(per_cluster, len(q))
    # A stable sort: among equal scores the lower index comes first.
    return np.argsort(-q, axis=0, kind="stable")[:per_cluster].T


def plot_cluster_grid(images, q, path, per_cluster: int = 10):
    """The paper's Figure 3: one row per cluster, its `per_cluster` top-scoring images.

    Args:
        images: `(n, height, width)` or `(n, height, width, channels)` array.
        q: the soft assignments `(n, n_clusters)`.
        path: the PNG to write.

    Returns:
        `(path, indices)`, indices `(n_clusters, per_cluster)` in the grid's order.
    """
    import numpy as np

    plt = _pyplot()
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    indices = top_samples(q, per_cluster)
    rows, cols = indices.shape
    fig, axes = plt.subplots(rows, cols, figsize=(0.75 * cols + 0.9, 0.75 * rows + 0.4),
                             squeeze=False)
    for j in range(rows):
        for i in range(cols):
            ax = axes[j][i]
            ax.imshow(images[indices[j, i]], cmap="gray_r" if images.ndim == 3 else None)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[j][0].set_ylabel(f"{j}", rotation=0, labelpad=12, va="center")
    fig.suptitle("Top-scoring samples per cluster (rows: clusters)", fontsize=10)
    fig.tight_layout()
    return _save(fig, path), indices


def plot_embedding_map(z, labels, path, y=None, method: str = "tsne", max_points: int = 5000,
                       seed: int = 0):
    """A 2-D map of the embedding (t-SNE or PCA, scikit-learn), coloured by cluster
    (and, in a second panel, by the true label when `y` is given)."""
    import numpy as np
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    plt = _pyplot()
    z, labels = np.asarray(z), np.asarray(labels)
    chosen = np.arange(len(z))
    if len(z) > max_points:
        chosen = np.sort(np.random.default_rng(seed).choice(len(z), max_points, replace=False))
    if method == "tsne":
        points = TSNE(2, random_state=seed, init="pca",
                      perplexity=min(30.0, (len(chosen) - 1) / 3)).fit_transform(z[chosen])
    elif method == "pca":
        points = PCA(2, random_state=seed).fit_transform(z[chosen])
    else:
        raise ValueError(f"`method` must be 'tsne' or 'pca'. Received: method={method!r}")
    panels = [("DEC clusters", labels[chosen])]
    if y is not None:
        panels.append(("true labels", np.asarray(y)[chosen]))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.6), squeeze=False)
    for ax, (title, colour) in zip(axes[0], panels, strict=True):
        ax.scatter(points[:, 0], points[:, 1], c=colour, cmap="tab10" if colour.max() < 10
                   else "tab20", s=4, linewidths=0)
        ax.set_title(f"{title} ({method.upper() if method == 'pca' else 't-SNE'}, "
                     f"{len(chosen)} points)", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return _save(fig, path)


def plot_training_curves(report: dict, path):
    """Pretraining loss per epoch, DEC loss per epoch, label change per refresh and,
    when the run had labels, ACC per refresh."""
    plt = _pyplot()
    panels = []
    if report.get("pretrain_history", {}).get("loss"):
        panels.append(("pretraining loss (MSE)", "epoch", report["pretrain_history"]["loss"],
                       None))
    if report.get("history", {}).get("loss"):
        panels.append(("DEC loss (KL)", "DEC epoch", report["history"]["loss"], None))
    changes = [(r["step"], r["label_change"]) for r in report.get("refreshes", [])
               if r.get("label_change") is not None]
    if changes:
        panels.append(("label change per refresh", "DEC step", [c for _, c in changes],
                       [s for s, _ in changes]))
    accuracy = [(r["step"], r["acc"]) for r in report.get("refreshes", []) if "acc" in r]
    if accuracy:
        panels.append(("ACC per refresh (labels)", "DEC step", [a for _, a in accuracy],
                       [s for s, _ in accuracy]))
    if not panels:
        raise ValueError("The report holds no training history to plot.")
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False)
    for ax, (title, xlabel, values, steps) in zip(axes[0], panels, strict=True):
        ax.plot(steps if steps is not None else range(1, len(values) + 1), values)
        if title.startswith("label change"):
            ax.axhline(report.get("recipe", {}).get("tol", 0.001), color="tab:red",
                       linestyle="--", label="tol")
            ax.set_yscale("log")
            ax.legend(fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(xlabel)
    fig.tight_layout()
    return _save(fig, path)


def plot_cluster_sizes(labels, n_clusters: int, path):
    """How many points each cluster holds, as bars."""
    import numpy as np

    plt = _pyplot()
    counts = np.bincount(np.asarray(labels), minlength=n_clusters)
    fig, ax = plt.subplots(figsize=(max(4.0, 0.45 * n_clusters + 1.5), 3.2))
    ax.bar(range(n_clusters), counts)
    ax.set_xticks(range(n_clusters))
    ax.set_xlabel("cluster")
    ax.set_ylabel("points")
    ax.set_title("Cluster sizes", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def hungarian_order(y, labels):
    """The clusters reordered to match the labels (scipy's linear_sum_assignment).

    Returns `(label_ids, cluster_ids)`: cluster_ids[i] is matched to label_ids[i]
    (unmatched clusters follow).
    """
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    label_ids, y_idx = np.unique(y, return_inverse=True)
    cluster_ids, c_idx = np.unique(labels, return_inverse=True)
    counts = np.zeros((len(label_ids), len(cluster_ids)), dtype=np.int64)
    np.add.at(counts, (y_idx, c_idx), 1)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    matched = list(cols[np.argsort(rows)])
    rest = [c for c in range(len(cluster_ids)) if c not in matched]
    return label_ids, cluster_ids[matched + rest]


def plot_confusion(y, labels, path):
    """The label x cluster counts, clusters in Hungarian order (the diagonal is ACC's match)."""
    import numpy as np

    plt = _pyplot()
    y, labels = np.asarray(y), np.asarray(labels)
    label_ids, cluster_order = hungarian_order(y, labels)
    counts = np.array([[np.sum((y == a) & (labels == c)) for c in cluster_order]
                       for a in label_ids])
    fig, ax = plt.subplots(figsize=(0.55 * len(cluster_order) + 2.5,
                                    0.5 * len(label_ids) + 1.8))
    ax.imshow(counts, cmap="Blues")
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if counts[i, j] > counts.max() / 2 else "black")
    ax.set_xticks(range(len(cluster_order)), [str(c) for c in cluster_order])
    ax.set_yticks(range(len(label_ids)), [str(a) for a in label_ids])
    ax.set_xlabel("cluster (Hungarian order)")
    ax.set_ylabel("label")
    ax.set_title("Labels x clusters", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def plot_agreement(ensemble: dict, path):
    """An ensemble's pairwise ARI between runs, the chosen run's row and column outlined."""
    import numpy as np

    plt = _pyplot()
    agreement = np.asarray(ensemble["agreement"], dtype=float)
    chosen, n = ensemble["chosen"], len(agreement)
    fig, ax = plt.subplots(figsize=(0.6 * n + 2.8, 0.55 * n + 1.8))
    image = ax.imshow(agreement, cmap="viridis", vmin=min(0.0, agreement.min()), vmax=1.0)
    for i in range(n):
        for j in range(n):
            ax.text(j, i, f"{agreement[i, j]:.2f}", ha="center", va="center", fontsize=7,
                    color="black" if agreement[i, j] > 0.6 else "white")
    from matplotlib.patches import Rectangle

    for xy, width, height in (((-0.5, chosen - 0.5), n, 1), ((chosen - 0.5, -0.5), 1, n)):
        ax.add_patch(Rectangle(xy, width, height, fill=False, edgecolor="tab:red",
                               linewidth=2.0, clip_on=False))
    labels = [f"{i}" + (" (chosen)" if i == chosen else "") for i in range(n)]
    ax.set_xticks(range(n), [str(i) for i in range(n)])
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("run")
    ax.set_title("Agreement between runs (ARI)", fontsize=10)
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    return _save(fig, path)
