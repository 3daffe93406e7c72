import keras
import numpy as np
import pytest

from keras_dec import ClusteringLayer


def numpy_q(z, mu, alpha):
    d2 = ((z[:, None, :] - mu[None, :, :]) ** 2).sum(-1)
    num = (1.0 + d2 / alpha) ** (-(alpha + 1.0) / 2.0)
    return num / num.sum(1, keepdims=True)


@pytest.mark.parametrize("alpha", [0.1, 1.0, 2.5, 10.0])
def test_matches_numpy_formula(alpha):
    rng = np.random.default_rng(1)
    z = rng.normal(size=(17, 5)).astype("float32")
    mu = rng.normal(size=(4, 5)).astype("float32")
    layer = ClusteringLayer(4, alpha=alpha, initial_centers=mu)
    q = keras.ops.convert_to_numpy(layer(z))
    np.testing.assert_allclose(q, numpy_q(z.astype("float64"), mu.astype("float64"), alpha),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(q.sum(1), 1.0, atol=1e-6)


def test_set_centers_and_output_shape():
    layer = ClusteringLayer(3)
    layer.build((None, 2))
    centers = np.arange(6, dtype="float32").reshape(3, 2)
    layer.set_centers(centers)
    np.testing.assert_array_equal(np.asarray(layer.centers), centers)
    assert layer.compute_output_shape((7, 2)) == (7, 3)


def test_huge_and_tiny_inputs_stay_finite():
    layer = ClusteringLayer(2, alpha=1e-6, initial_centers=[[0.0, 0.0], [1.0, 1.0]])
    z = np.array([[1e30, -1e30], [0.0, 0.0], [1.0, 1.0], [-3e38, 3e38]], dtype="float32")
    q = keras.ops.convert_to_numpy(layer(z))
    assert np.all(np.isfinite(q))
    np.testing.assert_allclose(q.sum(1), 1.0, atol=1e-6)
    assert q[1, 0] > 0.99 and q[2, 1] > 0.99


def test_config_round_trip_gives_identical_layer():
    mu = np.random.default_rng(2).normal(size=(3, 4)).astype("float32")
    layer = ClusteringLayer(3, alpha=2.0, initial_centers=mu, name="c")
    config = layer.get_config()
    assert config["n_clusters"] == 3 and config["alpha"] == 2.0
    clone = ClusteringLayer.from_config(config)
    z = np.random.default_rng(3).normal(size=(5, 4)).astype("float32")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(z)),
                                  keras.ops.convert_to_numpy(clone(z)))


def test_keras_file_round_trip(tmp_path):
    inputs = keras.Input((4,))
    outputs = ClusteringLayer(3, alpha=0.5, name="clustering")(inputs)
    model = keras.Model(inputs, outputs)
    model.get_layer("clustering").set_centers(np.eye(3, 4))
    path = tmp_path / "layer.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # no custom_objects: registered
    z = np.random.default_rng(4).normal(size=(6, 4)).astype("float32")
    np.testing.assert_array_equal(model.predict(z, verbose=0), loaded.predict(z, verbose=0))
    assert loaded.get_layer("clustering").alpha == 0.5


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_clusters": 0}, ValueError, r"`n_clusters` must be an integer >= 1. Received: n_clusters=0"),
        ({"n_clusters": 2.5}, TypeError, r"`n_clusters` must be an integer >= 1. Received: n_clusters=2.5"),
        ({"n_clusters": "3"}, TypeError, r"Received: n_clusters='3'"),
        ({"n_clusters": 3, "alpha": 0}, ValueError, r"`alpha` must be a finite number > 0. Received: alpha=0"),
        ({"n_clusters": 3, "alpha": -1.0}, ValueError, r"Received: alpha=-1.0"),
        ({"n_clusters": 3, "alpha": float("nan")}, ValueError, r"Received: alpha=nan"),
        ({"n_clusters": 3, "initial_centers": np.zeros((2, 4))}, ValueError,
         r"`initial_centers` must have shape \(n_clusters, embedding_dim\)"),
        ({"n_clusters": 2, "initial_centers": [[np.nan], [0.0]]}, ValueError,
         r"`initial_centers` must be finite"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        ClusteringLayer(**kwargs)


def test_set_centers_rejects_wrong_shape_and_nan():
    layer = ClusteringLayer(2)
    layer.build((None, 3))
    with pytest.raises(ValueError, match=r"`centers` must have shape \(2, 3\). Received: centers with shape \(3, 3\)"):
        layer.set_centers(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="`centers` must be finite"):
        layer.set_centers(np.full((2, 3), np.nan))


def test_input_with_wrong_feature_count_is_refused():
    layer = ClusteringLayer(2)
    layer.build((None, 3))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
        layer(np.zeros((2, 4), dtype="float32"))


def test_initial_centers_must_match_input_dim():
    layer = ClusteringLayer(2, initial_centers=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="`initial_centers` has 3 columns but the input has 5"):
        layer.build((None, 5))
