"""The benchmark script: per-seed JSON, summary, skipping finished seeds."""

import json
import os

import numpy as np
import pytest

from benchmarks import fashion_mnist as bench

QUICK = ["--dataset", "digits", "--dims", "16,4", "--pretrain-epochs", "2", "--max-iter", "3"]


def test_one_seed_writes_its_figures_and_a_rerun_skips_it(tmp_path, capsys):
    assert bench.main([*QUICK, "--seeds", "0", "--out", str(tmp_path)]) == 0
    folder = tmp_path / "digits"
    report = json.loads((folder / "seed_0.json").read_text())
    assert report["recipe"]["dims"] == [16, 4] and report["recipe"]["pretrain_epochs"] == 2
    assert report["dec_iterations"] == 3
    for method in ("kmeans_raw", "autoencoder_kmeans", "dec"):
        assert set(report[method]) == {"acc", "nmi", "ari"}
    assert report["pretrain_gflops"] > 0 and report["machine"]["matmul_gflops"] > 0
    assert 0 <= report["dec_fraction_outside_steps"] <= 1
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["n_seeds"] == 1 and summary["dec"]["acc"]["std"] == 0
    assert "| DEC |" in (folder / "summary.md").read_text()
    assert "pretrain_curve" not in report and "during pretraining" not in (
        folder / "summary.md").read_text()

    capsys.readouterr()
    assert bench.main([*QUICK, "--seeds", "0", "--out", str(tmp_path)]) == 0
    assert "seed 0: already done" in capsys.readouterr().out
    assert json.loads((folder / "seed_0.json").read_text()) == report
    # The skipped seed keeps the matmul rate of its own run in the summary.
    rerun = json.loads((folder / "summary.json").read_text())
    assert rerun["pretrain_fraction_of_matmul_peak"] == pytest.approx(
        report["pretrain_gflops"] / report["machine"]["matmul_gflops"])


def test_a_finished_seed_of_another_recipe_is_not_mixed_in(tmp_path):
    bench.main([*QUICK, "--seeds", "0", "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="was run with another recipe"):
        bench.main([*QUICK[:-1], "4", "--seeds", "0", "--out", str(tmp_path)])


def test_the_pretraining_curve_ends_at_the_pipelines_autoencoder_kmeans(tmp_path, capsys):
    assert bench.main([*QUICK, "--seeds", "0", "--curve-every", "1", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "digits" / "seed_0.json").read_text())
    curve = report["pretrain_curve"]
    assert [point["epoch"] for point in curve] == [1, 2]
    # The last point is the pretrained autoencoder the pipeline hands to k-means.
    last = {m: curve[-1][m] for m in ("acc", "nmi", "ari")}
    assert last == pytest.approx(report["autoencoder_kmeans"])
    assert report["seconds"]["pretrain_curve"] > 0 and report["seconds"]["pretrain"] > 0
    assert "epoch 2: AE+k-means ACC" in capsys.readouterr().out
    table = (tmp_path / "digits" / "summary.md").read_text()
    assert f"| 0 | 2 | {curve[-1]['acc']:.3f} | {curve[-1]['nmi']:.3f} |" in table


def test_a_negative_curve_interval_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        bench.main([*QUICK, "--curve-every", "-1", "--out", str(tmp_path)])
    assert "--curve-every must be >= 0, got -1" in capsys.readouterr().err
    assert not (tmp_path / "digits").exists()


def test_the_tabular_benchmark_records_each_run_and_the_budget(tmp_path, monkeypatch):
    from benchmarks import tabular
    from keras_dec import recipe as recipe_module

    def tiny(n_samples, n_features):  # recipe_for's place, so the run takes seconds
        return recipe_module.Recipe(dims=(8, 2), pretrain_epochs=2, max_iter=20, n_init=2,
                                    pretrain_learning_rate=0.1, update_interval=5)

    monkeypatch.setattr(recipe_module, "recipe_for", tiny)
    assert tabular.main(["--data", "iris", "--seeds", "0", "--out", str(tmp_path),
                         "--pretrain-min-steps", "7"]) == 0
    report = json.loads((tmp_path / "tabular.json").read_text())
    (run,) = report["runs"]
    assert run["recipe"]["pretrain_min_steps"] == 7 and report["machine"]["pretrain_min_steps"] == 7
    assert run["shape"] == [150, 4] and run["diverged"] is None
    assert [r["step"] for r in run["refreshes"]][:2] == [0, 5]
    assert "| iris | 150x4 | - | 0.887 ± 0.000 |" in (tmp_path / "tabular.md").read_text()


@pytest.mark.parametrize("name", ["foo", "blobs", "blobsx", "blobs0"])
def test_the_tabular_benchmark_refuses_an_unknown_data_set(name, tmp_path, capsys):
    from benchmarks import tabular

    with pytest.raises(SystemExit):
        tabular.main(["--data", name, "--out", str(tmp_path)])
    expected = ("expected one of iris, wine, breast_cancer, digits or blobs<width> (e.g. "
                f"blobs2), got {name!r}")
    assert expected in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_the_blobs_ceiling_is_each_points_nearest_true_centre():
    from sklearn import datasets

    from benchmarks import tabular

    x, y, centres = datasets.make_blobs(1000, n_features=2, centers=5, cluster_std=2.5,
                                        random_state=2, return_centers=True)
    distances = np.linalg.norm(x[:, None, :] - centres[None], axis=-1)
    # make_blobs numbers the blobs as its centres, so no matching is needed.
    expected = np.mean(distances.argmin(1) == y)
    assert tabular.nearest_centre_accuracy("blobs2") == pytest.approx(expected)
    assert 0.6 < expected < 0.7  # overlapping blobs: no clustering recovers them all
    assert tabular.nearest_centre_accuracy("blobs10") == 1.0
    assert tabular.nearest_centre_accuracy("iris") is None


def test_the_ensemble_benchmark_scores_the_label_free_pick_against_each_ensemble(tmp_path):
    from benchmarks import ensemble

    truth = np.repeat(np.arange(3), 20)
    rng = np.random.default_rng(0)
    # Seeds 0-2 find the classes (relabelled); seed 3 is noise, and it is the odd one out.
    runs = [(truth + s) % 3 for s in range(3)] + [rng.integers(0, 3, 60)]
    accs = [1.0, 1.0, 1.0, 0.4]
    for seed, (labels, acc) in enumerate(zip(runs, accs, strict=True)):
        (tmp_path / f"seed_{seed}.json").write_text(json.dumps(
            {"seed": seed, "dec": {"acc": acc, "nmi": acc, "ari": acc}}))
        np.savez(tmp_path / f"seed_{seed}_labels.npz", dec=labels)
    assert ensemble.main(["--runs", str(tmp_path), "--size", "3"]) == 0
    result = json.loads((tmp_path / "ensemble_3.json").read_text())["methods"]["dec"]
    ari = result["rules"]["ari"]
    # Four ensembles of 3: one without seed 3 (no spread: no SD gain, a median tie),
    # three with it, each picking a perfect run: +0.2 ACC (1 - 0.8), +0.71 SD, and equal
    # to the median of [1, 1, 0.4] (a tie counts half).
    assert ari["ensembles"] == 4
    assert ari["gain_acc"] == pytest.approx(3 * 0.2 / 4)
    assert ari["gain_sd"] == pytest.approx(0.2 / np.std([1.0, 1.0, 0.4]))
    assert ari["above_median"] == pytest.approx(0.5)
    assert ari["picked_acc"] == {"mean": 1.0, "std": 0.0}
    assert result["picked_of_all"]["ari"] == 0
    assert "| dec | ari | 4 | 0.850 ± 0.260 | 1.000 ± 0.000 | +0.150 | +0.71 | 50% |" in (tmp_path / "ensemble_3.md").read_text()


def test_the_stacked_ensemble_step_is_each_seeds_own_step(tmp_path):
    """benchmarks.ensemble_vmap (JAX only, so in a process of its own): the vmapped
    step over three seeds gives each seed its own step's weights, and every count is timed."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.ensemble_vmap", "--features", "12", "--dims", "8,3",
         "--batch-size", "16", "--seeds", "1", "3", "--repeats", "2", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "KERAS_BACKEND": "jax"})
    assert result.returncode == 0, result.stderr[-3000:]
    measured = json.loads((tmp_path / "ensemble_vmap.json").read_text())
    assert measured["max_abs_difference"] < 1e-6
    assert [r["seeds"] for r in measured["rows"]] == [1, 3]
    assert all(r["sequential_s"] > 0 and r["vmapped_s"] > 0 for r in measured["rows"])
    assert "| 3 |" in (tmp_path / "ensemble_vmap.md").read_text()


def test_the_stacked_ensemble_benchmark_refuses_another_backend(tmp_path):
    import keras

    from benchmarks import ensemble_vmap

    if keras.backend.backend() == "jax":
        pytest.skip("this backend is JAX")
    with pytest.raises(SystemExit, match="KERAS_BACKEND=jax"):
        ensemble_vmap.main(["--out", str(tmp_path)])


def test_the_manifold_benchmark_reuses_a_cached_autoencoder(tmp_path, monkeypatch, capsys):
    """benchmarks.manifold --cache: the second run loads the first one's autoencoder
    (no pretraining, the same AE + k-means partition) and runs only the methods asked for."""
    from benchmarks import manifold
    from keras_dec.recipe import RECIPES, Recipe

    monkeypatch.setitem(RECIPES, "digits", Recipe(dims=(16, 4), pretrain_epochs=2, max_iter=6,
                                                   update_interval=3, n_init=2))
    common = ["--dataset", "digits", "--seeds", "0", "--head-steps", "3", "--head-batch", "64",
              "--cache", str(tmp_path / "cache"),
              "--set", "pretrain_optimizer=adam", "pretrain_learning_rate=0.01"]
    assert manifold.main([*common, "--methods", "ae_kmeans", "dec", "head_gmm",
                          "--out", str(tmp_path / "first")]) == 0
    assert manifold.main([*common, "--methods", "ae_kmeans", "head_gmm_dec",
                          "--out", str(tmp_path / "second")]) == 0
    first = json.loads((tmp_path / "first" / "seed_0.json").read_text())
    second = json.loads((tmp_path / "second" / "seed_0.json").read_text())
    assert "pretrain" in first["seconds"] and "pretrain" not in second["seconds"]
    assert second["ae_kmeans"] == first["ae_kmeans"]
    assert {"dec", "head_gmm"} <= set(first) and "head_gmm_dec" not in first
    assert "dec" not in second and "head_gmm_dec" in second
    assert first["head_steps"] == second["head_steps"] == 3
    assert first["recipe"]["pretrain_optimizer"] == "adam"
    assert first["recipe"]["pretrain_learning_rate"] == 0.01
    labels = np.load(tmp_path / "second" / "seed_0_labels.npz")
    assert labels["head_gmm_dec"].shape == (1797,)
    assert "| head_gmm_dec |" in (tmp_path / "second" / "summary.md").read_text()


def test_the_manifold_benchmark_parses_recipe_changes():
    """--set FIELD=VALUE: Python literals, bare strings, and a clear error for a field the
    Recipe does not have."""
    from benchmarks.manifold import recipe_changes
    from keras_dec.recipe import Recipe

    assert recipe_changes(["pretrain_optimizer=adam", "pretrain_learning_rate=1e-3",
                           "dims=(8, 2)"], Recipe()) == {
        "pretrain_optimizer": "adam", "pretrain_learning_rate": 0.001, "dims": (8, 2)}
    with pytest.raises(SystemExit, match="Received: 'learning_rat=1'"):
        recipe_changes(["learning_rat=1"], Recipe())
    with pytest.raises(SystemExit, match="Received: 'adam'"):
        recipe_changes(["adam"], Recipe())
