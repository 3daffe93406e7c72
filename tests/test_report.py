"""The run report: each figure, the HTML page, and `keras-dec report` / `train --report`."""

import numpy as np
import pytest
from PIL import Image

from keras_dec import plots
from keras_dec.cli import main
from keras_dec.datasets import load_digits
from keras_dec.metrics import cluster_accuracy

TINY = ["--dims", "16,4", "--pretrain-epochs", "2", "--max-iter", "10", "--quiet", "--seed", "0"]


def _png(path, size):
    image = Image.open(path)
    assert image.format == "PNG" and image.size == size
    assert np.asarray(image.convert("L"), dtype="float64").std() > 10  # not blank


def test_top_samples_are_each_clusters_highest_q():
    q = np.random.default_rng(0).dirichlet(np.ones(3), size=40)
    top = plots.top_samples(q, per_cluster=5)
    assert top.shape == (3, 5)
    for j in range(3):
        np.testing.assert_array_equal(top[j], np.argsort(-q[:, j], kind="stable")[:5])


def test_the_grid_shows_exactly_the_top_scoring_samples(tmp_path):
    x, _ = load_digits()
    q = np.random.default_rng(1).dirichlet(np.ones(4), size=len(x))
    path, shown = plots.plot_cluster_grid(x.reshape(-1, 8, 8), q, tmp_path / "grid.png")
    np.testing.assert_array_equal(shown, plots.top_samples(q, 10))
    _png(path, (840, 340))  # 10 columns, 4 rows


def test_hungarian_order_puts_the_matched_counts_on_the_diagonal():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 200)
    labels = (y + 1) % 4
    labels[:20] = rng.integers(0, 4, 20)
    label_ids, order = plots.hungarian_order(y, labels)
    diagonal = sum(np.sum((y == a) & (labels == c)) for a, c in zip(label_ids, order, strict=True))
    assert diagonal / len(y) == pytest.approx(cluster_accuracy(y, labels))


def test_every_figure_is_a_png_of_its_size(tmp_path):
    rng = np.random.default_rng(0)
    z, labels, y = rng.normal(size=(300, 5)), rng.integers(0, 10, 300), rng.integers(0, 10, 300)
    _png(plots.plot_embedding_map(z, labels, tmp_path / "map.png", y=y, method="pca"),
         (1040, 460))
    _png(plots.plot_cluster_sizes(labels, 10, tmp_path / "sizes.png"), (600, 320))
    _png(plots.plot_confusion(y, labels, tmp_path / "conf.png"), (800, 680))
    report = {"pretrain_history": {"loss": [0.3, 0.2, 0.1]}, "history": {"loss": [0.1, 0.2]},
              "refreshes": [{"step": 0, "label_change": None}, {"step": 30, "label_change": 0.1},
                            {"step": 60, "label_change": 0.01}], "recipe": {"tol": 0.001}}
    _png(plots.plot_training_curves(report, tmp_path / "train.png"), (1260, 340))
    with pytest.raises(ValueError, match="`method` must be 'tsne' or 'pca'"):
        plots.plot_embedding_map(z, labels, tmp_path / "x.png", method="umap")
    with pytest.raises(ValueError, match="no training history"):
        plots.plot_training_curves({}, tmp_path / "y.png")


def test_train_report_writes_a_self_contained_page(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--dataset", "digits", "--max-samples", "300", "--n-clusters", "10",
                 "--output", str(out), "--report", *TINY]) == 0
    page = (out / "report.html").read_text()
    names = ["clusters", "embedding", "training", "sizes", "confusion"]
    assert sorted(p.stem for p in (out / "report").glob("*.png")) == sorted(names)
    assert page.count('src="data:image/png;base64,') == len(names)
    assert "<td>DEC</td>" in page and "src=\"http" not in page
    _png(out / "report" / "clusters.png", (840, 790))
    # Again from the command, with PCA, for data that is not an image: no grid.
    x = load_digits()[0][:300]
    np.save(tmp_path / "features.npy", x[:, :40])
    table = tmp_path / "table"
    assert main(["train", "--data", str(tmp_path / "features.npy"), "--n-clusters", "4",
                 "--output", str(table), *TINY]) == 0
    assert main(["report", str(table), "--map", "pca"]) == 0
    assert sorted(p.stem for p in (table / "report").glob("*.png")) == [
        "embedding", "sizes", "training"]


def test_report_of_a_folder_without_a_model_is_a_clear_error(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "No model.keras in the run folder" in capsys.readouterr().err


def test_refreshes_record_accuracy_when_labels_are_given(blobs):
    from conftest import small_encoder

    from keras_dec import DEC, TargetRefresh

    x, y = blobs
    dec = DEC(small_encoder(), n_clusters=3, update_interval=4, tol=0.0)
    dec.initialize_centers(x, seed=0)
    dec.compile()
    history = dec.fit(x, batch_size=32, epochs=2, shuffle=False, verbose=0, refresh_labels=y)
    assert [r["step"] for r in history.refreshes] == [0, 4, 8]
    assert all("acc" in r for r in history.refreshes)
    # The last refresh came at the last step: its labels are the final clusters.
    assert history.refreshes[-1]["acc"] == cluster_accuracy(y, dec.predict_clusters(x))
    with pytest.raises(ValueError, match="`labels` need `ordered=True` data"):
        TargetRefresh(x, labels=y)


def test_the_curves_show_accuracy_when_the_run_had_labels(tmp_path):
    report = {"history": {"loss": [0.1, 0.2]},
              "refreshes": [{"step": 0, "label_change": None, "acc": 0.5},
                            {"step": 30, "label_change": 0.1, "acc": 0.6}]}
    _png(plots.plot_training_curves(report, tmp_path / "curves.png"), (1260, 340))
