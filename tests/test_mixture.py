"""Option (a) of the manifold stage: a fixed Gaussian mixture's posterior as the model's
clustering layer, on every backend: against scikit-learn, saved, in the pipeline, exported."""

import keras
import numpy as np
import pytest
from conftest import tensorflow_only
from sklearn.mixture import GaussianMixture

from keras_dec import DEC, GaussianMixtureLayer, Recipe, build_autoencoder, load_model, train_dec


def mixture_data(seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 0.0, 0.0], [4.0, 0.0, 1.0], [0.0, 5.0, -2.0]])
    # Different shapes per component, so a full covariance matters.
    scales = np.array([[1.0, 0.3, 0.5], [0.4, 1.5, 0.2], [0.8, 0.8, 2.0]])
    y = np.repeat(np.arange(3), 60)
    return (centers[y] + rng.normal(size=(180, 3)) * scales[y]).astype("float32"), y


def test_the_layer_is_scikit_learns_posterior():
    z, _ = mixture_data()
    gmm = GaussianMixture(3, covariance_type="full", random_state=0).fit(z)
    layer = GaussianMixtureLayer(3)
    layer.build((None, 3))
    layer.set_mixture(gmm.means_, gmm.precisions_cholesky_, gmm.weights_)
    q = keras.ops.convert_to_numpy(layer(z))
    np.testing.assert_allclose(q, gmm.predict_proba(z), atol=2e-5)
    np.testing.assert_array_equal(q.argmax(1), gmm.predict(z))
    # The logits are log pi_j + log N(z; mu_j, Sigma_j) up to a per-row constant.
    logits = keras.ops.convert_to_numpy(layer.logits(z))
    expected = gmm._estimate_weighted_log_prob(z.astype("float64"))
    np.testing.assert_allclose(logits - logits[:, :1], expected - expected[:, :1], atol=1e-3)


@pytest.mark.parametrize("name, value, message", [
    ("means", np.zeros((2, 3)), r"`means` must have shape \(3, 3\)"),
    ("weights", np.array([0.5, 0.5, 0.0]), "must be positive"),
    ("precisions_cholesky", np.full((3, 3, 3), np.nan), "must be finite"),
])
def test_a_bad_mixture_is_refused_by_name(name, value, message):
    layer = GaussianMixtureLayer(3)
    layer.build((None, 3))
    mixture = {"means": np.zeros((3, 3)), "precisions_cholesky": np.tile(np.eye(3), (3, 1, 1)),
               "weights": np.full(3, 1 / 3)}
    mixture[name] = value
    with pytest.raises(ValueError, match=message):
        layer.set_mixture(**mixture)


def identity_dec():
    inputs = keras.Input((3,))
    return DEC(keras.Model(inputs, keras.layers.Identity()(inputs)), 3,
               posterior="gaussian_mixture")


def test_a_mixture_dec_predicts_the_mixture_and_survives_a_round_trip(tmp_path):
    z, _ = mixture_data()
    dec = identity_dec().initialize_centers(z, n_init=2, seed=0, method="gmm")
    gmm = GaussianMixture(3, covariance_type="full", n_init=2, random_state=0).fit(z)
    np.testing.assert_allclose(dec.predict(z), gmm.predict_proba(z), atol=2e-5)
    np.testing.assert_array_equal(dec.initial_labels_, gmm.predict(z))
    np.testing.assert_allclose(dec.cluster_centers_, gmm.means_, rtol=1e-5)
    dec.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    assert loaded.posterior == "gaussian_mixture"
    np.testing.assert_allclose(loaded.predict(z), dec.predict(z), atol=1e-6)


def test_a_mixture_dec_is_not_trained_or_set_by_centres():
    z, _ = mixture_data()
    dec = identity_dec()
    with pytest.raises(ValueError, match="pass method='gmm'. Received: method='kmeans'"):
        dec.initialize_centers(z)
    dec.initialize_centers(z, n_init=1, seed=0, method="gmm")
    with pytest.raises(ValueError, match="takes a whole mixture"):
        dec.set_centers(np.zeros((3, 3)))
    dec.compile()
    with pytest.raises(ValueError, match="not trained with KL"):
        dec.fit(z, epochs=1)
    _, encoder = build_autoencoder(3, dims=(4, 2))
    with pytest.raises(ValueError, match="`posterior` must be"):
        DEC(encoder, 3, posterior="gauss")


def test_the_recipe_takes_the_mixture_as_its_clustering():
    assert Recipe(clustering="gmm").init_method == "gmm"
    with pytest.raises(ValueError, match="clustering='gmm', init='kmeans'"):
        Recipe(clustering="gmm", init="kmeans")


RECIPE = Recipe(dims=(16, 3), pretrain_epochs=10, pretrain_learning_rate=0.1, n_init=2,
                clustering="gmm")


def test_the_pipeline_skips_the_dec_stage_and_keeps_the_mixture(tmp_path):
    x, y = mixture_data()
    x = (x - x.min(0)) / (x.max(0) - x.min(0))
    dec, report = train_dec(x, 3, RECIPE, y=y, seed=0, verbose=0, output=tmp_path)
    assert "dec" not in report["seconds"] and report["dec_iterations"] == 0
    assert dec.posterior == "gaussian_mixture"
    # The shipped clusters are the mixture's on the embedding, as initialised.
    z = dec.embed(x)
    gmm = GaussianMixture(3, covariance_type="full", n_init=2, random_state=0).fit(z)
    np.testing.assert_array_equal(dec.predict_clusters(x), gmm.predict(z))
    assert report["dec"]["acc"] == pytest.approx(report["autoencoder_kmeans"]["acc"])
    np.testing.assert_array_equal(load_model(tmp_path / "model.keras").predict_clusters(x),
                                  dec.predict_clusters(x))


@tensorflow_only
def test_a_mixture_model_exports_with_parity(tmp_path):
    from keras_dec.export import export_for_serving

    x, _ = mixture_data()
    x = (x - x.min(0)) / (x.max(0) - x.min(0))
    dec, _ = train_dec(x, 3, RECIPE, seed=0, verbose=0)
    result = export_for_serving(dec, tmp_path, tflite=("none",), x=x)
    assert result["parity"]["saved_model"]["passed"] and result["parity"]["tflite_none"]["passed"]
