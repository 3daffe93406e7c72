"""`train_dec`: the DEC pipeline as a sequence of named stages, resumable after a kill."""

from __future__ import annotations

import os
from collections.abc import Sequence

import keras
from numpy.typing import ArrayLike

from keras_dec.datasets.shard_stream import ShardStream
from keras_dec.models.dec import DEC
from keras_dec.pipeline.builders import required_image_shape
from keras_dec.pipeline.data import prepare_training_data
from keras_dec.pipeline.ensemble import train_ensemble
from keras_dec.pipeline.epochs import resolve_device_loop
from keras_dec.pipeline.single_run import train_run
from keras_dec.recipe import Recipe, recipe_for
from keras_dec.utils.validation import check_int


def train_dec(
    x: ArrayLike | ShardStream,
    n_clusters: int,
    recipe: Recipe | None = None,
    y: ArrayLike | None = None,
    output: str | os.PathLike | None = None,
    seed: int | None = None,
    baseline_kmeans: bool = False,
    verbose: int = 1,
    data_source: str | None = None,
    pretrain_callbacks: Sequence[keras.callbacks.Callback] | None = None,
    dec_callbacks: Sequence[keras.callbacks.Callback] | None = None,
    checkpoint_every: int = 1,
    fresh: bool = False,
    device_loop: bool | None = None,
    scale: str = "none",
    ensemble: int = 1,
) -> tuple[DEC, dict]:
    """Runs pretraining, k-means initialisation and DEC; returns the model and a report.

    With `output`, the run checkpoints itself to `<output>/checkpoints/`
    (every `checkpoint_every` epochs of pretraining and of DEC, and after
    k-means), each file written atomically, and calling `train_dec` again
    with the same arguments continues from the last checkpoint; a finished
    run is not redone. With `seed`, every random choice (weights, per-epoch
    sample order, k-means) is fixed and TensorFlow's op determinism is on,
    so two runs, or a killed-and-resumed run and an uninterrupted one, end
    with the same cluster assignments.

    Args:
        x: float array `(n_samples, n_features, ...)` (flattened), or a
            `ShardStream` for data larger than memory: each epoch is then
            streamed from the shards (`tf.data`, seeded shuffle), DEC's
            target refresh streams them in a fixed order, and k-means
            initialisation and the label-free report use a seeded sample of
            at most `KMEANS_MAX_SAMPLES` (100,000) rows (all rows below that).
            Streams take no `y`, no layerwise pretraining and no device loop.
        n_clusters: int >= 1.
        recipe: `Recipe`; defaults to `recipe_for(n_samples, n_features)`:
            the reference recipe for 100 features or more, a narrower one
            for tabular data.
        y: optional int labels, only for the ACC/NMI/ARI report.
        output: optional folder; receives `model.keras`, `metrics.json`,
            `history.csv` and `checkpoints/`.
        seed: int or None, for a repeatable run.
        baseline_kmeans: bool, also report k-means on the raw features.
        verbose: int, 0 silent, 1 Keras progress bars (`format_summary`
            turns the report into a few lines to print).
        data_source: str or None, recorded in the report (the dataset name
            or file), so `keras-dec export` can find the data again. Also
            how flat rows of a built-in image data set ("digits",
            "fashion_mnist", "mnist") are known to be images, for
            `recipe.augment` and `recipe.backbone="conv"`, which need image
            data: (n, height, width[, channels]) arrays, or such rows.
        pretrain_callbacks: Keras callbacks for the pretraining epochs.
        dec_callbacks: Keras callbacks for the DEC epochs.
        checkpoint_every: int >= 1, epochs between checkpoints.
        fresh: bool, discard existing checkpoints in `output` first.
        device_loop: bool or None. True trains with the data held on the
            accelerator and many steps per compiled call (`DeviceLoop`, JAX
            only); the sample order, the steps and the results are those of
            `fit`. Batch-level callbacks then fire once per stretch of steps
            (up to the epoch's end or DEC's next target refresh), as with
            `steps_per_execution`. None (default) uses it on JAX, where it is
            the fast path, and `fit` elsewhere.
        scale: "none" (default), "minmax" or "standard": scale each feature
            (fitted on `x`) inside the model. The autoencoder pretrains on
            the scaled data, the k-means baseline clusters it, and DEC's
            encoder starts with the scaling layer, so the saved model,
            `predict` and the exported graphs take raw features. With a
            scaling, integer features (counts, pixels) are accepted.
        ensemble: int, 1 or >= 3. With N >= 3, train N runs (seeds `seed`,
            `seed + 1`, ..., each its own pretraining, in
            `<output>/runs/run_<i>/`) and keep the one whose clusters agree
            most with the others' (mean ARI), chosen without labels
            (`keras_dec.pipeline.ensemble`). The report's `ensemble` section
            holds every run's scores, the agreement matrix and why the run
            was chosen. Each run resumes on its own; one model is in memory
            at a time.

    The run is a sequence of named stages (`keras_dec.pipeline.stages`):
    the optional k-means baseline, pretraining, k-means initialisation, DEC
    and evaluation; each is timed in `report["seconds"]` and resumes from
    its own checkpoint. The data is checked once, on entry
    (`prepare_training_data`). A checkpointed run is refused, naming what
    changed, when resumed with other data, seed, recipe, scaling or Keras
    backend.

    Returns:
        `(dec, report)`; the report is what `metrics.json` holds.

    Examples:
        >>> from keras_dec.datasets import load_digits
        >>> x, y = load_digits()
        >>> recipe = Recipe(dims=(32, 8), pretrain_epochs=2, max_iter=10)
        >>> dec, report = train_dec(x[:200], 10, recipe, y=y[:200], seed=0, verbose=0)
        >>> sorted(report["dec"])
        ['acc', 'ari', 'nmi']
    """
    n_clusters = check_int("n_clusters", n_clusters, 1)
    output = _check_output(output)
    checkpoint_every = check_int("checkpoint_every", checkpoint_every, 1)
    ensemble = check_int("ensemble", ensemble, 1)
    if ensemble == 2:
        raise ValueError("`ensemble` needs 3 runs or more to choose by agreement (two runs "
                         "agree with each other equally); pass 1 for a single run. "
                         "Received: ensemble=2")
    data = prepare_training_data(x, n_clusters, y=y, scale=scale, seed=seed)
    device_loop = resolve_device_loop(device_loop, data)
    recipe = recipe or recipe_for(*data.shape)
    if not data.in_memory and recipe.pretrain_method == "layerwise":
        raise ValueError("Layerwise pretraining needs the data in memory; use "
                         "pretrain_method='end_to_end' with a ShardStream. Received: "
                         "pretrain_method='layerwise'")
    image_shape = required_image_shape(recipe, data, data_source)
    options = dict(device_loop=device_loop, baseline_kmeans=baseline_kmeans, verbose=verbose,
                   data_source=data_source, image_shape=image_shape,
                   callbacks={"pretrain": list(pretrain_callbacks or []),
                              "dec": list(dec_callbacks or [])},
                   checkpoint_every=checkpoint_every, fresh=fresh)
    if ensemble > 1:
        return train_ensemble(data, n_clusters, recipe, output, seed, ensemble, **options)
    return train_run(data, n_clusters, recipe, output, seed, **options)


def _check_output(output) -> str | None:
    if output is None:
        return None
    output = os.fspath(output)
    if not output.strip():
        raise ValueError(f"`output` must name a folder. Received: output={output!r}")
    if os.path.exists(output) and not os.path.isdir(output):
        raise ValueError(
            f"`output` must be a folder, but {output!r} is a file. Received: output={output!r}"
        )
    return output
