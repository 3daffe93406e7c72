"""Seed ensembles: N runs, the one that agrees most with the others kept, without labels."""

import json
import os

import keras
import numpy as np
import pytest

from keras_dec import DECClustering, Recipe
from keras_dec.pipeline import format_summary, train_dec
from keras_dec.pipeline.ensemble import (
    agreement_matrix,
    choose_run,
    ensemble_seeds,
    mean_agreement,
    run_folder,
)

RECIPE = Recipe(dims=(16, 4), pretrain_epochs=3, pretrain_learning_rate=0.1, max_iter=30,
                update_interval=10, n_init=2,
                pretrain_batch_size=64, batch_size=64)


def ari_reference(a, b):
    """Hubert & Arabie's adjusted Rand index from the contingency table, in NumPy."""
    a, b = np.unique(a, return_inverse=True)[1], np.unique(b, return_inverse=True)[1]
    table = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(table, (a, b), 1)

    def pairs(counts):
        return float(np.sum(counts * (counts - 1) / 2))

    index, rows, cols = pairs(table), pairs(table.sum(1)), pairs(table.sum(0))
    expected = rows * cols / pairs(np.array([len(a)]))
    return (index - expected) / ((rows + cols) / 2 - expected)


def labels_of(folder, x):
    return keras.saving.load_model(os.path.join(folder, "model.keras")).predict_clusters(x)


@pytest.fixture(scope="module")
def ensemble_run(tmp_path_factory):
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(160, 6)) + np.repeat(np.eye(6)[:4] * 4, 40, axis=0)).astype("float32")
    y = np.repeat(np.arange(4), 40)
    out = tmp_path_factory.mktemp("ensemble")
    dec, report = train_dec(x, 4, RECIPE, y=y, output=out, seed=5, verbose=0, ensemble=3)
    return x, y, out, dec, report


def test_agreement_is_the_adjusted_rand_index_of_every_pair():
    rng = np.random.default_rng(1)
    partitions = [rng.integers(0, 4, 50) for _ in range(4)]
    partitions[1] = (partitions[0] + 1) % 4  # the same partition, relabelled
    agreement = agreement_matrix(partitions)
    expected = np.array([[ari_reference(a, b) for b in partitions] for a in partitions])
    np.testing.assert_allclose(agreement, expected, atol=1e-12)
    assert agreement[0, 1] == pytest.approx(1.0)


def test_the_choice_is_the_largest_mean_agreement_with_the_others():
    agreement = np.array([[1.0, 0.2, 0.3, 0.1],
                          [0.2, 1.0, 0.9, 0.8],
                          [0.3, 0.9, 1.0, 0.6],
                          [0.1, 0.8, 0.6, 1.0]])
    np.testing.assert_allclose(mean_agreement(agreement), [0.2, 1.9 / 3, 0.6, 0.5])
    assert choose_run(agreement) == 1
    assert ensemble_seeds(4, 3) == [4, 5, 6]


def test_an_ensemble_keeps_the_run_that_agrees_most(ensemble_run):
    x, y, out, dec, report = ensemble_run
    ensemble = report["ensemble"]
    runs = [labels_of(run_folder(out, i), x) for i in range(3)]
    expected = np.array([[ari_reference(a, b) for b in runs] for a in runs])
    np.testing.assert_allclose(ensemble["agreement"], expected, atol=1e-6)
    chosen = int(np.argmax((expected.sum(1) - 1) / 2))
    assert ensemble["chosen"] == chosen
    assert ensemble["seeds"] == [5, 6, 7]
    assert ensemble["stability"] == pytest.approx((expected[chosen].sum() - 1) / 2, abs=1e-6)
    np.testing.assert_array_equal(dec.predict_clusters(x), runs[chosen])
    np.testing.assert_array_equal(labels_of(out, x), runs[chosen])
    with open(os.path.join(out, "metrics.json")) as f:
        assert json.load(f)["ensemble"]["chosen"] == chosen
    # Every run's label-free scores and (with labels, for reading only) its accuracy.
    for i, run in enumerate(ensemble["runs"]):
        assert run["seed"] == 5 + i and set(run["label_free"]) == {"embedding", "features"}
        assert run["dec"]["acc"] == pytest.approx(
            json.load(open(os.path.join(run_folder(out, i), "metrics.json")))["dec"]["acc"])
    assert report["seconds"]["total"] >= sum(r["seconds"] for r in ensemble["runs"])
    text = format_summary(report)
    assert f"ensemble of 3 runs: run {chosen} (seed {5 + chosen})" in text
    assert "agrees" in text and "ARI" in text


def test_run_zero_is_the_single_run_of_the_seed(ensemble_run, tmp_path):
    x, _, out, _, _ = ensemble_run
    train_dec(x, 4, RECIPE, output=tmp_path, seed=5, verbose=0)
    np.testing.assert_array_equal(labels_of(tmp_path, x), labels_of(run_folder(out, 0), x))


class CrashInRunOne(keras.callbacks.Callback):
    """Raises at run 1's second DEC epoch (run 0 is then finished): a crash mid-ensemble."""

    def __init__(self, output):
        super().__init__()
        self.done, self.seen = os.path.join(run_folder(output, 0), "model.keras"), 0

    def on_epoch_end(self, epoch, logs=None):
        self.seen += os.path.exists(self.done)
        if self.seen == 2:
            raise RuntimeError("crash")


def test_a_crashed_ensemble_resumes_run_by_run_to_the_same_choice(ensemble_run, tmp_path):
    x, y, full, _, report = ensemble_run
    with pytest.raises(RuntimeError, match="crash"):
        train_dec(x, 4, RECIPE, y=y, output=tmp_path, seed=5, verbose=0, ensemble=3,
                  dec_callbacks=[CrashInRunOne(tmp_path)])
    assert (tmp_path / "runs" / "run_0" / "model.keras").exists()
    assert not (tmp_path / "runs" / "run_1" / "model.keras").exists()
    assert not (tmp_path / "model.keras").exists()
    _, resumed = train_dec(x, 4, RECIPE, y=y, output=tmp_path, seed=5, verbose=0, ensemble=3)
    assert resumed["ensemble"]["agreement"] == report["ensemble"]["agreement"]
    np.testing.assert_array_equal(labels_of(tmp_path, x), labels_of(full, x))


def test_an_ensemble_and_a_single_run_do_not_share_a_folder(ensemble_run, tmp_path):
    x, _, out, _, _ = ensemble_run
    with pytest.raises(ValueError, match="holds an ensemble's runs.*ensemble=1"):
        train_dec(x, 4, RECIPE, output=out, seed=5, verbose=0)
    train_dec(x[:40], 4, RECIPE.replace(pretrain_epochs=1, max_iter=1), output=tmp_path,
              seed=0, verbose=0)
    with pytest.raises(ValueError, match="single run's checkpoints.*ensemble=3"):
        train_dec(x[:40], 4, RECIPE, output=tmp_path, seed=0, verbose=0, ensemble=3)
    # --fresh, as the message says, makes the folder an ensemble's.
    train_dec(x[:40], 4, RECIPE.replace(pretrain_epochs=1, max_iter=1), output=tmp_path,
              seed=0, verbose=0, ensemble=3, fresh=True)
    assert not (tmp_path / "checkpoints").exists() and (tmp_path / "runs" / "run_2").is_dir()


@pytest.mark.parametrize("bad, message", [(2, "needs 3 runs or more.*ensemble=2"),
                                          (0, "ensemble"), ("3", "ensemble")])
def test_a_bad_ensemble_size_is_refused_by_name(blobs, bad, message):
    with pytest.raises((ValueError, TypeError), match=message):
        train_dec(blobs[0], 3, RECIPE, verbose=0, ensemble=bad)


def test_the_cli_refuses_an_ensemble_of_two(capsys):
    from keras_dec.cli import build_parser

    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["train", "--dataset", "digits", "--ensemble", "2"])
    assert exit_.value.code == 2
    assert "--ensemble: expected 1 (a single run) or 3 runs or more" in capsys.readouterr().err
    assert build_parser().parse_args(["train", "--ensemble", "3"]).ensemble == 3


def test_the_report_shows_the_agreement_and_the_choice(ensemble_run):
    from keras_dec.report import write_report

    x, y, out, _, report = ensemble_run
    page = open(write_report(out, x, y, map_method="pca")).read()
    assert "Agreement between the ensemble&#x27;s runs" in page
    assert (out / "report" / "agreement.png").exists()
    assert report["ensemble"]["stability_text"] in page
    assert "Ensemble of 3 runs" in page


def test_the_estimators_n_runs_trains_an_ensemble_in_memory(blobs):
    x, _ = blobs
    model = DECClustering(3, dims=(8, 3), pretrain_epochs=2, max_iter=10, n_runs=3,
                          random_state=0).fit(x)
    assert model.report_["ensemble"]["n_runs"] == 3
    assert model.report_["ensemble"]["seeds"] == [0, 1, 2]
    np.testing.assert_array_equal(model.labels_, model.predict(x))


def test_the_cli_trains_an_ensemble_and_prints_its_choice(tmp_path, capsys):
    from keras_dec.cli import main

    assert main(["train", "--dataset", "digits", "--max-samples", "150", "--dims", "16,4",
                 "--pretrain-epochs", "2", "--pretrain-lr", "0.1", "--max-iter", "6",
                 "--seed", "0", "--quiet", "--ensemble", "3",
                 "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    chosen = json.loads((tmp_path / "metrics.json").read_text())["ensemble"]["chosen"]
    assert f"ensemble of 3 runs: run {chosen} (seed {chosen})" in out
    assert sorted(os.listdir(tmp_path / "runs")) == ["run_0", "run_1", "run_2"]


@pytest.mark.parametrize("bad, message", [(2, "`n_runs` needs 3 runs or more.*n_runs=2"),
                                          (0, "n_runs")])
def test_the_estimator_names_n_runs_in_its_errors(blobs, bad, message):
    with pytest.raises(ValueError, match=message):
        DECClustering(3, n_runs=bad).fit(blobs[0])
