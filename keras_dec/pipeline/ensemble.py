"""Seed ensembles: N runs with their own seeds, and the one that agrees most with the others.

A DEC run is decided by its pretraining, before DEC starts (r = 0.97
between autoencoder + k-means and final accuracy over the reference port's
trials), and seeds spread about +-0.04 ACC. An ensemble trains N runs, each
its own pretraining, and keeps one model, chosen without labels: the run
whose partition agrees most (mean adjusted Rand index) with the other runs'
partitions. A lucky-but-odd run is outvoted; the consensus of the runs is
what is kept, as one ordinary model that exports like any other.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import adjusted_rand_score

from keras_dec.models.dec import DEC
from keras_dec.pipeline.data import TrainingData
from keras_dec.pipeline.run_folder import (
    CHECKPOINTS,
    MODEL_FILE,
    RUNS_FOLDER,
    load_checkpoint,
    write_run,
)
from keras_dec.pipeline.single_run import train_run
from keras_dec.recipe import Recipe
from keras_dec.utils.folder_lock import exclusive_folder

RULE = "mean adjusted Rand index (ARI) with the other runs' partitions"


def run_folder(output: str | os.PathLike, index: int) -> str:
    """The folder of run `index` of the ensemble in `output`: `<output>/runs/run_<index>`."""
    return os.path.join(os.fspath(output), RUNS_FOLDER, f"run_{index}")


def ensemble_seeds(seed: int | None, n_runs: int) -> list[int | None]:
    """Each run's seed: `seed`, `seed + 1`, ... (so run 0 is the single run of `seed`).

    Examples:
        >>> ensemble_seeds(7, 3)
        [7, 8, 9]
        >>> ensemble_seeds(None, 2)
        [None, None]
    """
    return [None if seed is None else seed + i for i in range(n_runs)]


def agreement_matrix(partitions: list[ArrayLike]) -> np.ndarray:
    """Pairwise adjusted Rand index between partitions of the same points (1 on the diagonal).

    Examples:
        >>> agreement_matrix([[0, 0, 1, 1], [1, 1, 0, 0], [0, 1, 0, 1]]).round(2)
        array([[ 1. ,  1. , -0.5],
               [ 1. ,  1. , -0.5],
               [-0.5, -0.5,  1. ]])
    """
    n = len(partitions)
    agreement = np.eye(n)
    for i in range(n):
        for j in range(i + 1, n):
            agreement[i, j] = agreement[j, i] = adjusted_rand_score(partitions[i],
                                                                    partitions[j])
    return agreement


def mean_agreement(agreement: ArrayLike) -> np.ndarray:
    """Each run's mean agreement with the other runs (the diagonal left out).

    Examples:
        >>> mean_agreement([[1.0, 0.8, 0.6], [0.8, 1.0, 0.4], [0.6, 0.4, 1.0]]).round(2)
        array([0.7, 0.6, 0.5])
    """
    agreement = np.asarray(agreement, dtype=float)
    n = len(agreement)
    if n < 2:
        return np.ones(n)
    return (agreement.sum(axis=1) - np.diag(agreement)) / (n - 1)


def choose_run(agreement: ArrayLike) -> int:
    """The run that agrees most with the others (the first of equals).

    Examples:
        >>> choose_run([[1.0, 0.8, 0.6], [0.8, 1.0, 0.4], [0.6, 0.4, 1.0]])
        0
    """
    return int(np.argmax(mean_agreement(agreement)))


def ensemble_summary(agreement: np.ndarray, seeds: list, reports: list[dict]) -> dict:
    """The report's `ensemble` section: every run's scores, the agreement, the choice and why."""
    means = mean_agreement(agreement)
    chosen = int(np.argmax(means))
    runs = []
    for i, (seed, report) in enumerate(zip(seeds, reports, strict=True)):
        free = report.get("label_free", {})
        run = {"run": i, "seed": seed, "folder": os.path.join(RUNS_FOLDER, f"run_{i}"),
               "mean_agreement": float(means[i]),
               "label_free": {space: scores.get("dec") for space, scores in free.items()},
               "seconds": report.get("seconds", {}).get("total")}
        if "dec" in report:
            run["dec"] = report["dec"]
        runs.append(run)
    others = np.delete(means, chosen)
    why = (f"run {chosen} (seed {seeds[chosen]}) agrees most with the others: mean ARI "
           f"{means[chosen]:.3f}" + (f" (the other runs: {others.min():.3f} to "
                                    f"{others.max():.3f})" if len(others) else ""))
    return {
        "n_runs": len(seeds),
        "seeds": list(seeds),
        "rule": RULE,
        "chosen": chosen,
        "why": why,
        "stability": float(means[chosen]),
        "stability_text": (f"The chosen clustering agrees {means[chosen]:.2f} ARI on average "
                           f"with the other {len(seeds) - 1} runs."),
        "agreement": agreement.round(6).tolist(),
        "runs": runs,
    }


def train_ensemble(
    data: TrainingData,
    n_clusters: int,
    recipe: Recipe,
    output: str | None,
    seed: int | None,
    n_runs: int,
    *,
    fresh: bool = False,
    **run_options,
) -> tuple[DEC, dict]:
    """Trains `n_runs` runs of `recipe` and returns the one chosen by agreement.

    Run `i` trains with seed `seed + i` in `<output>/runs/run_<i>/`, a full
    run folder with its own checkpoints, so a killed ensemble resumes run by
    run and finished runs are not redone. One model is in memory at a time:
    each run's partition of `data.points` is kept, its model is not (without
    `output`, the runs go to a temporary folder that is removed at the end).
    The chosen run's model, history and metrics are then written to
    `<output>` itself, its report extended with `ensemble` (see
    `ensemble_summary`) and `seconds` summed over the runs.

    Args:
        data: checked `TrainingData`.
        n_clusters, recipe, output, seed: as `train_dec`.
        n_runs: int >= 2.
        fresh: discard every run's checkpoints first.
        **run_options: passed on to `train_run`.

    Returns:
        `(dec, report)` of the chosen run.
    """
    seeds = ensemble_seeds(seed, n_runs)
    with contextlib.ExitStack() as stack:
        if output is None:
            root = stack.enter_context(tempfile.TemporaryDirectory(prefix="keras-dec-ensemble-"))
        else:
            stack.enter_context(exclusive_folder(output, "keras-dec train"))
            root = output
            single = os.path.join(output, CHECKPOINTS)
            if os.path.isdir(single) and not fresh:
                raise ValueError(
                    f"{output!r} holds a single run's checkpoints, not an ensemble's; pick "
                    f"another --output or rerun with --fresh. Received: ensemble={n_runs}")
            if fresh:
                shutil.rmtree(single, ignore_errors=True)
                shutil.rmtree(os.path.join(output, RUNS_FOLDER), ignore_errors=True)
        partitions, reports = [], []
        for i, run_seed in enumerate(seeds):
            dec, report = train_run(data, n_clusters, recipe, run_folder(root, i), run_seed,
                                    fresh=fresh, **run_options)
            partitions.append(dec.predict_clusters(data.points, check_input=False))
            reports.append(report)
            del dec
        start = time.perf_counter()
        agreement = agreement_matrix(partitions)
        summary = ensemble_summary(agreement, seeds, reports)
        chosen = summary["chosen"]
        dec = load_checkpoint(os.path.join(run_folder(root, chosen), MODEL_FILE), DEC)
        report = dict(reports[chosen])
        report.pop("resumed", None)
        seconds = {}
        for r in reports:
            for stage, value in r.get("seconds", {}).items():
                seconds[stage] = seconds.get(stage, 0.0) + value
        seconds["ensemble_choice"] = time.perf_counter() - start
        seconds["total"] = seconds.get("total", 0.0) + seconds["ensemble_choice"]
        report["seconds"] = seconds
        report["seed"] = seed
        report["ensemble"] = summary
        if output is not None:
            write_run(output, dec, report)
        return dec, report
