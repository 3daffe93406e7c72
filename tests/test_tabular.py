"""Tabular data with no recipe given: the width-aware recipe, no divergence, label-free report."""

import numpy as np
import pytest
from sklearn import datasets as sk_datasets
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler, minmax_scale

from keras_dec.metrics import label_free_indices
from keras_dec.pipeline import format_summary, train_dec
from keras_dec.recipe import Recipe, recipe_for


def test_image_sized_inputs_get_the_reference_recipe_with_the_manifold_stage():
    assert recipe_for(70000, 784) == Recipe(manifold="umap")
    assert recipe_for(10, 100) == Recipe(manifold="umap")


@pytest.mark.parametrize(
    "n_samples, n_features, embedding, batch",
    [(150, 4, 2, 32), (178, 13, 6, 32), (569, 30, 10, 32), (1797, 64, 10, 35),
     (1_000_000, 20, 10, 256), (50, 1, 1, 32), (50, 2, 2, 32)],
)
def test_narrow_inputs_get_a_narrow_recipe(n_samples, n_features, embedding, batch):
    recipe = recipe_for(n_samples, n_features)
    assert recipe.dims == (64, 64, 256, embedding)
    assert recipe.pretrain_batch_size == batch
    assert (recipe.pretrain_learning_rate, recipe.pretrain_clipnorm) == (0.1, 1.0)
    # The DEC stage keeps the paper's settings.
    assert (recipe.learning_rate, recipe.update_interval, recipe.tol) == (0.01, 140, 0.001)


@pytest.mark.parametrize("args, error, match", [
    ((0, 4), ValueError, "n_samples"), ((10, 0), ValueError, "n_features"),
    ((10.5, 4), TypeError, "n_samples"),
])
def test_recipe_for_refuses_bad_sizes(args, error, match):
    with pytest.raises(error, match=match):
        recipe_for(*args)


def test_a_clipnorm_must_be_positive():
    with pytest.raises(ValueError, match="pretrain_clipnorm"):
        Recipe(pretrain_clipnorm=0.0)


def _table(name):
    bunch = sk_datasets.load_digits() if name == "digits" else getattr(
        sk_datasets, f"load_{name}")()
    return bunch.data, bunch.target


@pytest.mark.parametrize("name", ["iris", "wine", "breast_cancer", "digits"])
@pytest.mark.parametrize("scaling", ["minmax", "standard"])
def test_the_default_recipe_does_not_diverge_on_scaled_tables(name, scaling):
    # The reference recipe (SGD 1.0) made iris's pretraining loss inf by step 23.
    x, y = _table(name)
    x = minmax_scale(x) if scaling == "minmax" else StandardScaler().fit_transform(x)
    x = x.astype("float32")[:600]
    y = y[:600]
    budget = recipe_for(*x.shape).replace(pretrain_epochs=30, max_iter=100)
    dec, report = train_dec(x, len(np.unique(y)), budget, y=y, seed=0, verbose=0)
    assert all(np.all(np.isfinite(w)) for w in dec.get_weights())
    assert report["autoencoder_kmeans"]["acc"] > 1.5 / len(np.unique(y))  # better than chance


def test_label_free_indices_match_scikit_learn():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(60, 3))
    labels = np.repeat([0, 1, 2], 20)
    z[labels == 1] += 4
    got = label_free_indices(z, labels)
    assert got["silhouette"] == pytest.approx(silhouette_score(z, labels))
    assert got["calinski_harabasz"] > 10


def test_label_free_indices_are_none_for_one_cluster_and_refuse_bad_labels():
    z = np.arange(8.0).reshape(4, 2)
    assert label_free_indices(z, [1, 1, 1, 1]) == {"silhouette": None, "calinski_harabasz": None}
    with pytest.raises(ValueError, match=r"`labels` must have one label per point, shape \(4,\)"):
        label_free_indices(z, [0, 1])


def test_large_inputs_get_a_seeded_silhouette_sample(monkeypatch):
    import keras_dec.metrics as metrics

    monkeypatch.setattr(metrics, "SILHOUETTE_SAMPLE", 30)
    rng = np.random.default_rng(0)
    z, labels = rng.normal(size=(100, 2)), np.repeat([0, 1], 50)
    assert label_free_indices(z, labels, seed=3) == label_free_indices(z, labels, seed=3)
    assert label_free_indices(z, labels, seed=3) != label_free_indices(z, labels, seed=4)


def test_the_report_compares_methods_without_labels(blobs):
    x, y = blobs
    x = minmax_scale(x).astype("float32")
    recipe = recipe_for(*x.shape).replace(pretrain_epochs=20, max_iter=60)
    _, report = train_dec(x, 3, recipe, seed=0, verbose=0, baseline_kmeans=True)
    for space in ("embedding", "features"):
        assert set(report["label_free"][space]) == {"kmeans_raw", "autoencoder_kmeans", "dec"}
    features = report["label_free"]["features"]["kmeans_raw"]
    # In the input space, the index is scikit-learn's on the raw features.
    assert features["silhouette"] == pytest.approx(silhouette_score(
        x, _kmeans_labels(x, recipe.n_init)), rel=1e-6)
    summary = format_summary(report)
    assert "Without labels:" in summary and "silhouette" in summary


def _kmeans_labels(x, n_init):
    from sklearn.cluster import KMeans

    return KMeans(3, n_init=n_init, random_state=0).fit_predict(x)


@pytest.mark.parametrize("embedding, features, verdict", [
    ((0.77, 0.51), (0.30, 0.20), "better separated than k-means' in both spaces"),
    ((0.40, 0.51), (0.10, 0.20), "less well separated than k-means' in both spaces"),
    # Digits, make demo: ahead in DEC's embedding, even (+0.0002) in the inputs.
    ((0.767, 0.514), (0.1827, 0.1825), "no clear evidence either way (silhouette gaps +0.253"),
])
def test_the_verdict_needs_a_clear_gap_in_both_spaces(embedding, features, verdict):
    from keras_dec.pipeline import label_free_lines

    def space(dec, raw):
        return {"dec": {"silhouette": dec}, "kmeans_raw": {"silhouette": raw}}

    lines = label_free_lines({"embedding": space(*embedding), "features": space(*features)})
    assert lines[-1].startswith("  Without labels: ") and verdict in lines[-1]
