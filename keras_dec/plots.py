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
    from keras_dec.utils import atomic

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
    path = os.fspath(path)
    with atomic.atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return path
