"""One training run: its stages in sequence in one run folder, resumable after a kill."""

from __future__ import annotations

import contextlib
import os
import shutil

import keras

from keras_dec.backend import enable_determinism
from keras_dec.models.dec import DEC
from keras_dec.pipeline.data import TrainingData
from keras_dec.pipeline.epochs import epoch_runner
from keras_dec.pipeline.run_folder import (
    MODEL_FILE,
    RUNS_FOLDER,
    Checkpoints,
    load_checkpoint,
    read_metrics,
    write_run,
)
from keras_dec.pipeline.stages import (
    Cluster,
    Evaluate,
    InitializeCenters,
    KMeansBaseline,
    Manifold,
    Pretrain,
    Run,
    run_stages,
)
from keras_dec.recipe import Recipe
from keras_dec.utils.folder_lock import exclusive_folder
from keras_dec.version import __version__


def clustering_stages(recipe: Recipe) -> list:
    """The stages after pretraining: the manifold head (with a manifold), the centres, and
    DEC's steps (unless the clusters are a fixed Gaussian mixture's)."""
    return [*([Manifold()] if recipe.manifold != "none" else []), InitializeCenters(),
            *([Cluster()] if recipe.clustering != "gmm" else [])]


def stages_of(recipe: Recipe, baseline_kmeans: bool = False) -> list:
    """The stages of one run of `recipe`, in order."""
    return [*([KMeansBaseline()] if baseline_kmeans else []), Pretrain(),
            *clustering_stages(recipe), Evaluate()]


def train_run(
    data: TrainingData,
    n_clusters: int,
    recipe: Recipe,
    output: str | None,
    seed: int | None,
    *,
    device_loop: bool,
    baseline_kmeans: bool = False,
    verbose: int = 1,
    data_source: str | None = None,
    image_shape: tuple | None = None,
    callbacks: dict | None = None,
    checkpoint_every: int = 1,
    fresh: bool = False,
) -> tuple[DEC, dict]:
    """Trains one run on checked data (`prepare_training_data`); `train_dec` with its
    arguments already checked.

    With `output`, the run holds the folder's lock, checkpoints there and
    resumes from it; a finished run is loaded, not redone.

    Returns:
        `(dec, report)`.
    """
    stages = stages_of(recipe, baseline_kmeans)
    with contextlib.ExitStack() as stack:
        if output is not None:
            # One writer per output folder; a second run fails here, before any work.
            stack.enter_context(exclusive_folder(output, "keras-dec train"))
            runs = os.path.join(output, RUNS_FOLDER)
            if os.path.isdir(runs) and not fresh:
                raise ValueError(f"{output!r} holds an ensemble's runs ({RUNS_FOLDER}/); pass "
                                 "its ensemble size to resume it, pick another --output, or "
                                 "rerun with --fresh. Received: ensemble=1")
            shutil.rmtree(runs, ignore_errors=True)
        ckpt = Checkpoints(output, run_identity(data, n_clusters, recipe, seed))
        ckpt.load(fresh)
        if ckpt.stage == "done" and output is not None:
            try:
                report = read_metrics(output)
            except (ValueError, FileNotFoundError) as e:
                raise ValueError(f"The finished run's report {e} Rerun with --fresh to start "
                                 "over.") from None
            report["resumed"] = "already finished"
            return load_checkpoint(os.path.join(output, MODEL_FILE), DEC), report
        if seed is not None:
            keras.utils.set_random_seed(seed)
            enable_determinism()
        if not ckpt.report:
            ckpt.state["report"] = new_report(data, n_clusters, recipe, seed, data_source)
        run = Run(data, recipe, n_clusters, seed, ckpt, epoch_runner(device_loop, data, seed,
                                                                     verbose),
                  verbose=verbose, checkpoint_every=checkpoint_every, image_shape=image_shape,
                  callbacks=dict(callbacks or {}))
        run_stages(stages, run)
        dec, report = run.model("dec", DEC), run.report
        seconds = report["seconds"]
        seconds["total"] = sum(v for k, v in seconds.items() if k != "total")
        if output is not None:
            write_run(output, dec, report)
            ckpt.save("done", 0)
        return dec, report


def run_identity(data: TrainingData, n_clusters: int, recipe: Recipe, seed: int | None) -> dict:
    """What makes two runs the same run: a checkpoint of any other is not resumed.

    The Keras backend is part of it: float results differ between backends,
    so a run started on one is not continued on another.
    """
    return {
        "n_samples": data.n_samples, "n_features": data.n_features, "n_clusters": n_clusters,
        "seed": seed, "recipe": recipe.to_dict(), "scale": data.scale,
        "data_sha256": data.digest, "backend": keras.backend.backend(),
    }


def new_report(data: TrainingData, n_clusters: int, recipe: Recipe, seed: int | None,
               data_source: str | None) -> dict:
    """The report a run starts with; the stages add their results and times to it."""
    report = {
        "package_version": __version__,
        "backend": keras.backend.backend(),
        "n_samples": data.n_samples,
        "n_features": data.n_features,
        "input_shape": list(data.input_shape),
        "scale": data.scale,
        "n_clusters": n_clusters,
        "seed": seed,
        "data_source": data_source,
        "data_sha256": data.digest,
        "recipe": recipe.to_dict(),
        "seconds": {},
    }
    if not data.in_memory:
        report["shards"] = len(data.stream.paths)
        report["kmeans_sample"] = len(data.points)
    return report
