"""Every bad input to the DEC API gets a clear error naming the argument."""

import numpy as np
import pytest
from conftest import needs_tensorflow, small_encoder

from keras_dec import DEC


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_clusters": 0}, ValueError, r"`n_clusters` must be an integer >= 1. Received: n_clusters=0"),
        ({"n_clusters": 3.0}, TypeError, r"`n_clusters` must be an integer >= 1. Received: n_clusters=3.0"),
        ({"n_clusters": 3, "alpha": 0.0}, ValueError, r"`alpha` must be a finite number > 0. Received: alpha=0.0"),
        ({"n_clusters": 3, "alpha": -2}, ValueError, r"Received: alpha=-2"),
        ({"n_clusters": 3, "update_interval": 0}, ValueError,
         r"`update_interval` must be an integer >= 1. Received: update_interval=0"),
        ({"n_clusters": 3, "tol": 1.5}, ValueError, r"`tol` must be a number in \[0, 1\]. Received: tol=1.5"),
        ({"n_clusters": 3, "tol": -0.1}, ValueError, r"Received: tol=-0.1"),
    ],
)
def test_invalid_constructor_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        DEC(small_encoder(), **kwargs)


def test_encoder_must_be_a_model():
    with pytest.raises(TypeError, match="`encoder` must be a keras.Model.*Received: encoder of type str"):
        DEC("encoder", n_clusters=3)


def ready_dec():
    dec = DEC(small_encoder(), n_clusters=3)
    dec.set_centers(np.eye(3, dtype="float32"))
    dec.compile()
    return dec


def test_nan_in_x():
    x = np.ones((10, 6), dtype="float32")
    x[3, 2] = np.nan
    with pytest.raises(ValueError, match=r"`x` contains 1 NaN or Inf value\(s\)"):
        ready_dec().fit(x, epochs=1, verbose=0)


def test_inf_in_x():
    x = np.ones((10, 6), dtype="float32")
    x[0, 0] = np.inf
    with pytest.raises(ValueError, match="`x` contains 1 NaN or Inf"):
        ready_dec().predict(x)


def test_wrong_feature_count():
    with pytest.raises(ValueError, match=r"`x` must have per-sample shape \(6,\).*Received: x with shape \(10, 5\)"):
        ready_dec().fit(np.ones((10, 5)), epochs=1, verbose=0)


def test_wrong_rank():
    with pytest.raises(ValueError, match=r"at least 2 dimensions. Received: x with shape \(6,\)"):
        ready_dec().predict(np.ones(6))


def test_fewer_samples_than_clusters():
    with pytest.raises(ValueError, match="at least 3 samples .*Received: x with 2 samples"):
        ready_dec().fit(np.random.rand(2, 6), epochs=1, verbose=0)


def test_fewer_samples_than_clusters_at_initialisation():
    dec = DEC(small_encoder(), n_clusters=3)
    with pytest.raises(ValueError, match="at least n_clusters=3 samples. Received: x with 2 samples"):
        dec.initialize_centers(np.random.rand(2, 6))


def test_fewer_distinct_points_than_clusters():
    dec = DEC(small_encoder(), n_clusters=3)
    with pytest.raises(ValueError, match="only 1 distinct embedding"):
        dec.initialize_centers(np.ones((10, 6)))


def test_empty_array():
    with pytest.raises(ValueError, match=r"`x` is empty. Received: x with shape \(0, 6\)"):
        ready_dec().fit(np.zeros((0, 6)), epochs=1, verbose=0)


@needs_tensorflow
def test_empty_dataset():
    import tensorflow as tf

    empty = tf.data.Dataset.from_tensor_slices(np.zeros((0, 6), "float32")).batch(4)
    with pytest.raises(ValueError, match="`x` is an empty dataset"):
        ready_dec().fit(empty, epochs=1, verbose=0)


def test_string_data():
    with pytest.raises(TypeError, match="`x` must hold numbers. Received: x with dtype <U1"):
        ready_dec().predict(np.full((4, 6), "a"))


def test_y_is_refused():
    with pytest.raises(ValueError, match="takes no targets"):
        ready_dec().fit(np.random.rand(10, 6), np.zeros(10), verbose=0)


def test_loss_is_refused():
    with pytest.raises(ValueError, match="do not pass `loss`. Received: loss='mse'"):
        DEC(small_encoder(), n_clusters=3).compile(loss="mse")


@pytest.mark.parametrize("method", ["predict", "predict_clusters", "fit"])
def test_predict_or_fit_before_centres_are_initialised(method):
    dec = DEC(small_encoder(), n_clusters=3)
    dec.compile()
    with pytest.raises(ValueError, match="cluster centres are not initialised. Call `initialize_centers"):
        getattr(dec, method)(np.random.rand(10, 6))


@needs_tensorflow
def test_dataset_with_wrong_shape():
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices(np.zeros((8, 5), "float32")).batch(4)
    with pytest.raises(ValueError, match=r"`x` must yield batches of shape \(batch, 6\)"):
        ready_dec().fit(data, epochs=1, verbose=0)
