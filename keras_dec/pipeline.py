"""The end-to-end DEC pipeline behind `keras-dec train`."""

from __future__ import annotations

import math
import os
import time

import keras
import numpy as np

from keras_dec.backbones.autoencoder import build_autoencoder
from keras_dec.backbones.pretraining import pretrain_autoencoder
from keras_dec.metrics import evaluate_clustering
from keras_dec.models.dec import DEC
from keras_dec.recipe import Recipe
from keras_dec.utils import atomic
from keras_dec.utils.validation import check_features, check_int
from keras_dec.version import __version__


class _StopAtStep(keras.callbacks.Callback):
    def __init__(self, max_steps):
        super().__init__()
        self.max_steps = max_steps

    def on_train_batch_end(self, batch, logs=None):
        if self.model.n_iter_ >= self.max_steps:
            self.model.stop_training = True


def train_dec(
    x,
    n_clusters: int,
    recipe: Recipe | None = None,
    y=None,
    output: str | os.PathLike | None = None,
    seed: int | None = None,
    baseline_kmeans: bool = False,
    verbose: int = 1,
    data_source: str | None = None,
) -> tuple[DEC, dict]:
    """Runs pretraining, k-means initialisation and DEC; returns the model and a report.

    Args:
        x: float array `(n_samples, n_features)`.
        n_clusters: int >= 2.
        recipe: `Recipe`; defaults to `Recipe()`.
        y: optional int labels, only for the ACC/NMI/ARI report.
        output: optional folder; receives `model.keras`, `metrics.json` and
            `history.csv`, each written atomically.
        seed: int or None; fixes every random choice (weights, shuffling,
            k-means) for a repeatable run.
        baseline_kmeans: bool, also report k-means on the raw features.
        data_source: str or None, recorded in the report (the dataset name
            or file), so `keras-dec export` can find the data again.
        verbose: int, 0 silent, 1 Keras progress bars (`format_summary`
            turns the report into a few lines to print).

    Returns:
        `(dec, report)`; the report is what `metrics.json` holds.

    Example:

    >>> from keras_dec.datasets import load_digits
    >>> x, y = load_digits()
    >>> recipe = Recipe(dims=(32, 8), pretrain_epochs=2, max_iter=10)
    >>> dec, report = train_dec(x[:200], 10, recipe, y=y[:200], seed=0, verbose=0)
    >>> sorted(report["dec"])
    ['acc', 'ari', 'nmi']
    """
    recipe = recipe or Recipe()
    n_clusters = check_int("n_clusters", n_clusters, 2)
    x = check_features(x, "x", min_samples=n_clusters)
    x = x.reshape(len(x), -1)
    if y is not None:
        y = np.asarray(y)
        if y.shape != (len(x),):
            raise ValueError(
                f"`y` must have one label per sample, shape ({len(x)},). "
                f"Received: y with shape {y.shape}"
            )
    if seed is not None:
        keras.utils.set_random_seed(seed)
    keras_verbose = "auto" if verbose else 0
    report: dict = {
        "package_version": __version__,
        "n_samples": int(len(x)),
        "n_features": int(x.shape[1]),
        "n_clusters": n_clusters,
        "seed": seed,
        "data_source": data_source,
        "recipe": {
            k: list(v) if isinstance(v, tuple) else v
            for k, v in vars(recipe).items()
        },
        "seconds": {},
    }

    if baseline_kmeans:
        from sklearn.cluster import KMeans

        start = time.perf_counter()
        labels = KMeans(n_clusters, n_init=recipe.n_init, random_state=seed).fit_predict(x)
        report["seconds"]["kmeans_raw"] = time.perf_counter() - start
        if y is not None:
            report["kmeans_raw"] = evaluate_clustering(y, labels)

    autoencoder, encoder = build_autoencoder(x.shape[1], dims=recipe.dims, seed=seed)
    start = time.perf_counter()
    pretrain_autoencoder(
        autoencoder,
        x,
        method=recipe.pretrain_method,
        epochs=recipe.pretrain_epochs,
        batch_size=recipe.batch_size,
        optimizer=keras.optimizers.SGD(
            learning_rate=recipe.pretrain_learning_rate, momentum=recipe.pretrain_momentum
        ),
        verbose=keras_verbose,
        seed=seed,
    )
    report["seconds"]["pretrain"] = time.perf_counter() - start

    dec = DEC(
        encoder,
        n_clusters=n_clusters,
        alpha=recipe.alpha,
        update_interval=recipe.update_interval,
        tol=recipe.tol,
    )
    start = time.perf_counter()
    dec.initialize_centers(x, n_init=recipe.n_init, seed=seed)
    report["seconds"]["kmeans_init"] = time.perf_counter() - start
    if y is not None:
        report["autoencoder_kmeans"] = evaluate_clustering(y, dec.initial_labels_)

    dec.compile(
        optimizer=keras.optimizers.SGD(learning_rate=recipe.learning_rate, momentum=recipe.momentum)
    )
    steps_per_epoch = math.ceil(len(x) / recipe.batch_size)
    callbacks = [_StopAtStep(recipe.max_iter)]
    start = time.perf_counter()
    history = dec.fit(
        x,
        batch_size=recipe.batch_size,
        epochs=math.ceil(recipe.max_iter / steps_per_epoch),
        callbacks=callbacks,
        verbose=keras_verbose,
        refresh_verbose=0,
    )
    report["seconds"]["dec"] = time.perf_counter() - start
    report["dec_iterations"] = dec.n_iter_
    report["converged"] = dec.converged_
    report["target_refreshes"] = len(history.refreshes)
    report["final_label_change"] = history.refreshes[-1]["label_change"]
    if y is not None:
        report["dec"] = evaluate_clustering(y, dec.predict_clusters(x))
    report["seconds"]["total"] = sum(report["seconds"].values())

    if output is not None:
        atomic.save_model(dec, os.path.join(output, "model.keras"))
        atomic.write_text(os.path.join(output, "history.csv"), _history_csv(history))
        atomic.write_json(os.path.join(output, "metrics.json"), report)
    return dec, report


def _history_csv(history) -> str:
    keys = sorted(history.history)
    rows = [",".join(["epoch", *keys])]
    for epoch in range(len(history.epoch)):
        rows.append(",".join([str(epoch), *(repr(float(history.history[k][epoch])) for k in keys)]))
    return "\n".join(rows) + "\n"


def format_summary(report: dict) -> str:
    """A few human-readable lines about a `train_dec` report."""
    lines = [
        f"DEC on {report['n_samples']} x {report['n_features']}, "
        f"{report['n_clusters']} clusters: {report['dec_iterations']} iterations, "
        f"{'converged (label change < tol)' if report['converged'] else 'stopped at max_iter'}",
    ]
    for key, name in (("kmeans_raw", "k-means (raw)"), ("autoencoder_kmeans", "AE + k-means"),
                      ("dec", "DEC")):
        if key in report:
            m = report[key]
            lines.append(f"  {name:14s} ACC {m['acc']:.4f}  NMI {m['nmi']:.4f}  ARI {m['ari']:.4f}")
    times = ", ".join(f"{k} {v:.1f}s" for k, v in report["seconds"].items())
    lines.append(f"  time: {times}")
    return "\n".join(lines)
