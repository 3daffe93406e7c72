"""A run's report: the figures of `keras_dec.plots` and its metrics in one HTML page."""

from __future__ import annotations

import base64
import html
import os

import numpy as np

from keras_dec.datasets.image_shapes import image_shape_of
from keras_dec.utils.validation import check_features

REPORT_FOLDER = "report"


def image_shape(metrics: dict) -> tuple[int, ...] | None:
    """The per-sample image shape of a run's data, or None for non-image data."""
    return image_shape_of(metrics.get("input_shape"), metrics.get("data_source"))


def write_report(run_dir: str | os.PathLike, x, y=None, map_method: str = "tsne",
                 seed: int = 0, check_input: bool = True) -> str:
    """Draws a trained run's figures into `<run_dir>/report/` and writes `report.html`.

    The page is self-contained (the PNGs are embedded), so it can be mailed
    or attached to a ticket. Figures: for image data, the top-scoring samples
    of each cluster (the paper's Figure 3); a 2-D map of the embedding (t-SNE
    on at most 5,000 points, or PCA), by cluster and by label; the training
    curves; the cluster sizes; with labels, the confusion matrix in
    Hungarian order. For an ensemble (`train_dec(ensemble=N)`): each run's
    label-free scores, the agreement matrix between runs, how stable the
    chosen clustering is and why it was chosen.

    Args:
        run_dir: a `keras-dec train` output folder (model.keras, metrics.json).
        x: the run's data, as it was trained on.
        y: optional labels.
        map_method: "tsne" or "pca".
        seed: int, for the map's sample and t-SNE.
        check_input: bool, check `x` (numbers, finite, the model's input
            shape); the CLI passes False for rows it prepared and checked.

    Returns:
        The path of report.html.
    """
    from keras_dec import plots
    from keras_dec.pipeline.run_folder import MODEL_FILE, read_metrics
    from keras_dec.saving import load_model
    from keras_dec.utils import atomic

    run_dir = os.fspath(run_dir)
    metrics = read_metrics(run_dir)
    model = load_model(os.path.join(run_dir, MODEL_FILE))
    if check_input:
        x = check_features(np.asarray(x).reshape(len(x), -1), "x",
                           n_features=tuple(model.encoder.input_shape[1:]))
    q = np.asarray(model.predict(x, verbose=0, check_input=False))
    labels = q.argmax(axis=1)
    folder = os.path.join(run_dir, REPORT_FOLDER)
    os.makedirs(folder, exist_ok=True)

    def out(name):
        return os.path.join(folder, name)

    figures = []
    shape = image_shape(metrics)
    if shape is not None:
        path, _ = plots.plot_cluster_grid(x.reshape(len(x), *shape), q, out("clusters.png"))
        figures.append(("Top-scoring samples of each cluster", path))
    figures.append(("The embedding in 2-D", plots.plot_embedding_map(
        model.embed(x, check_input=False), labels, out("embedding.png"), y=y, method=map_method,
        seed=seed)))
    figures.append(("Training", plots.plot_training_curves(metrics, out("training.png"))))
    figures.append(("Cluster sizes", plots.plot_cluster_sizes(labels, model.n_clusters,
                                                              out("sizes.png"))))
    if "ensemble" in metrics:
        figures.append(("Agreement between the ensemble's runs",
                        plots.plot_agreement(metrics["ensemble"], out("agreement.png"))))
    if y is not None:
        figures.append(("Labels against clusters", plots.plot_confusion(y, labels,
                                                                         out("confusion.png"))))
    page = os.path.join(run_dir, "report.html")
    atomic.write_text(page, _html(metrics, figures))
    return page


def _html(metrics: dict, figures) -> str:
    rows = []
    for key, name in (("kmeans_raw", "k-means on raw features"),
                      ("autoencoder_kmeans", "autoencoder + k-means"), ("dec", "DEC")):
        if key in metrics:
            m = metrics[key]
            rows.append(f"<tr><td>{name}</td><td>{m['acc']:.4f}</td><td>{m['nmi']:.4f}</td>"
                        f"<td>{m['ari']:.4f}</td></tr>")
    table = ("<table><tr><th>method</th><th>ACC</th><th>NMI</th><th>ARI</th></tr>"
             + "".join(rows) + "</table>") if rows else "<p>No labels: no accuracy.</p>"
    facts = (f"{metrics['n_samples']} x {metrics['n_features']}, {metrics['n_clusters']} "
             f"clusters, {metrics.get('dec_iterations')} DEC steps, "
             f"{'converged' if metrics.get('converged') else 'stopped at max_iter'}; "
             f"data: {metrics.get('data_source')}")
    ensemble = _ensemble_html(metrics["ensemble"]) if "ensemble" in metrics else ""
    images = []
    for title, path in figures:
        with open(path, "rb") as f:
            data = base64.b64encode(f.read()).decode("ascii")
        images.append(f"<h2>{html.escape(title)}</h2>"
                      f'<img alt="{html.escape(title)}" src="data:image/png;base64,{data}">')
    return ("<!doctype html><html><head><meta charset='utf-8'><title>keras-dec report</title>"
            "<style>body{font-family:sans-serif;max-width:1300px;margin:2em auto}"
            "td,th{padding:2px 10px;text-align:right}img{max-width:100%}</style></head><body>"
            f"<h1>keras-dec run</h1><p>{html.escape(facts)}</p>{table}{ensemble}{''.join(images)}"
            "</body></html>\n")


def _ensemble_html(ensemble: dict) -> str:
    """The ensemble's runs as a table, with the choice and its stability in words."""
    rows = []
    for run in ensemble["runs"]:
        free = run.get("label_free") or {}
        cells = [str(run["run"]), str(run["seed"]), f"{run['mean_agreement']:.3f}"]
        for space in ("embedding", "features"):
            silhouette = (free.get(space) or {}).get("silhouette")
            cells.append("-" if silhouette is None else f"{silhouette:.3f}")
        cells.append(f"{run['dec']['acc']:.4f}" if "dec" in run else "-")
        style = " style='font-weight:bold'" if run["run"] == ensemble["chosen"] else ""
        rows.append(f"<tr{style}>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells)
                    + "</tr>")
    head = ("<tr><th>run</th><th>seed</th><th>mean ARI with the others</th>"
            "<th>silhouette (its embedding)</th><th>silhouette (features)</th>"
            "<th>ACC (labels)</th></tr>")
    return (f"<h2>Ensemble of {ensemble['n_runs']} runs</h2>"
            f"<p>{html.escape(ensemble['stability_text'])} Chosen: "
            f"{html.escape(ensemble['why'])}. Rule: {html.escape(ensemble['rule'])}; "
            "no labels are used.</p>"
            f"<table>{head}{''.join(rows)}</table>")
