"""Choosing K: `select_n_clusters`, its rule, its errors, and `keras-dec select-k`."""

import json

import numpy as np
import pytest
from sklearn.preprocessing import minmax_scale

from keras_dec.cli import main
from keras_dec.metrics import kl_to_target
from keras_dec.pipeline.stages import Pretrain
from keras_dec.recipe import Recipe, recipe_for
from keras_dec.select_k import select_n_clusters, suggest
from keras_dec.target_distribution import kl_divergence, target_distribution


def _four_clusters_bent():
    """Four separated clusters of a 2-D latent space, bent into 12 features."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), 100)
    h = rng.normal(0, 1, (4, 2))[y] * 4 + rng.normal(0, 0.35, (400, 2))
    w, b = rng.normal(0, 1, (2, 12)), rng.normal(0, 1, 12)
    return minmax_scale(np.tanh(h @ w / 3 + b) + 0.3 * np.sin(h @ w)).astype("float32")


def test_four_bent_clusters_are_found_and_the_autoencoder_is_pretrained_once(monkeypatch):
    calls = []
    pretrain = Pretrain.run
    monkeypatch.setattr(Pretrain, "run", lambda self, run: calls.append(1) or pretrain(self, run))
    x = _four_clusters_bent()
    recipe = recipe_for(*x.shape).replace(pretrain_epochs=30, max_iter=200)
    result = select_n_clusters(x, [3, 4, 5], recipe, seed=0)
    assert len(calls) == 1
    assert [row["n_clusters"] for row in result["table"]] == [3, 4, 5]
    assert result["suggested"]["silhouette"] == 4
    for row in result["table"]:
        assert row["generalizability"] == pytest.approx(
            row["loss_train"] / row["loss_validation"])


def test_the_suggestion_rules():
    rows = [{"n_clusters": k, "generalizability": g, "silhouette": s, "calinski_harabasz": c}
            for k, g, s, c in [(2, 1.0, 0.1, 5.0), (3, 0.99, 0.3, 9.0), (4, 0.7, 0.2, 7.0)]]
    assert suggest(rows) == {"generalizability": 3, "silhouette": 3, "calinski_harabasz": 3}
    rows[0]["silhouette"] = None  # undefined (one cluster): that criterion is left out
    assert "silhouette" not in suggest(rows)


def test_kl_to_target_matches_the_keras_loss():
    q = np.random.default_rng(0).dirichlet(np.ones(4), size=50)
    p = np.asarray(target_distribution(q, q.sum(0)))
    expected = float(np.mean(np.asarray(kl_divergence(p, np.log(q)))))
    assert kl_to_target(q) == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match=r"`q` must have shape \(n_samples, n_clusters\)"):
        kl_to_target(np.ones(3))


@pytest.mark.parametrize("kwargs, error, match", [
    ({"candidates": [4]}, ValueError, r"at least two different K. Received: candidates=\[4\]"),
    ({"candidates": [1, 3]}, ValueError, r"`candidates\[i\]` must be an integer >= 2"),
    ({"candidates": [2, 3], "validation_fraction": 0.0}, ValueError, "strictly between 0 and 1"),
    ({"candidates": [2, 3], "validation_fraction": 1.0}, ValueError, "strictly between 0 and 1"),
    ({"candidates": [2, 30]}, ValueError, "at least 60 samples"),
])
def test_bad_arguments_are_refused(kwargs, error, match):
    x = np.random.default_rng(0).random((40, 3)).astype("float32")
    with pytest.raises(error, match=match):
        select_n_clusters(x, recipe=Recipe(dims=(4, 2), pretrain_epochs=1), **kwargs)


def test_cli_writes_the_table_and_a_plot(tmp_path, capsys):
    from PIL import Image

    out = tmp_path / "sel"
    code = main(["select-k", "--dataset", "digits", "--max-samples", "300", "--k", "3:4",
                 "--dims", "16,4", "--pretrain-epochs", "2", "--max-iter", "10", "--quiet",
                 "--output", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "suggested by generalizability: K = " in printed
    result = json.loads((out / "select_k.json").read_text())
    assert [r["n_clusters"] for r in result["table"]] == [3, 4]
    lines = (out / "select_k.csv").read_text().splitlines()
    assert lines[0].startswith("n_clusters,generalizability,silhouette") and len(lines) == 3
    image = Image.open(out / "select_k.png")
    assert image.format == "PNG" and image.size == (1260, 340)
    pixels = np.asarray(image.convert("L"), dtype="float64")
    assert pixels.std() > 10  # not blank


def test_cli_refuses_a_bad_k_range():
    with pytest.raises(SystemExit):
        main(["select-k", "--k", "5"])


def test_idec_with_the_conv_backbone_on_images():
    images = np.random.default_rng(1).random((60, 8, 8)).astype("float32")
    recipe = Recipe(dims=(4,), backbone="conv", conv_filters=(4, 8, 8), pretrain_epochs=1,
                    pretrain_optimizer="adam", pretrain_learning_rate=0.01, max_iter=4,
                    clustering="idec", n_init=2)
    result = select_n_clusters(images, [2, 3], recipe, seed=0)
    assert [row["n_clusters"] for row in result["table"]] == [2, 3]
    assert result["recipe"]["backbone"] == "conv"
    from keras_dec import IDEC, train_dec

    idec, _ = train_dec(images, 3, recipe, seed=0, verbose=0)
    assert isinstance(idec, IDEC) and idec.decoder.output_shape == (None, 64)


@pytest.mark.parametrize("clustering", ["dec", "gmm"])
def test_each_k_gets_its_own_manifold_head(clustering):
    x = _four_clusters_bent()[:200]
    recipe = Recipe(dims=(16, 4), pretrain_epochs=3, pretrain_learning_rate=0.1, max_iter=10,
                    n_init=1, manifold="umap", manifold_widths=(16,), manifold_steps=5,
                    manifold_batch_size=64, manifold_neighbors=8, clustering=clustering)
    result = select_n_clusters(x, [2, 3], recipe=recipe, seed=0)
    assert [row["n_clusters"] for row in result["table"]] == [2, 3]
    # The mixture is not trained: no DEC steps; DEC's head option trains.
    assert [row["dec_iterations"] for row in result["table"]] == (
        [0, 0] if clustering == "gmm" else [10, 10])
