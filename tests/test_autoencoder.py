import keras
import numpy as np
import pytest
from conftest import needs_tensorflow

from keras_dec import build_autoencoder, pretrain_autoencoder
from keras_dec.backbones.autoencoder import encoder_of


def test_default_architecture_matches_paper():
    autoencoder, encoder = build_autoencoder(784)
    dense = [layer for layer in autoencoder.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.units for layer in dense] == [500, 500, 2000, 10, 2000, 500, 500, 784]
    activations = [layer.activation.__name__ for layer in dense]
    assert activations == ["relu", "relu", "relu", "linear", "relu", "relu", "relu", "linear"]
    assert encoder.output_shape == (None, 10)
    # Shared layers: the encoder is the first half of the autoencoder.
    assert encoder.get_layer("encoder_0") is autoencoder.get_layer("encoder_0")


def test_pretraining_reduces_reconstruction_error():
    x = np.random.default_rng(0).random((64, 8)).astype("float32")
    autoencoder, _ = build_autoencoder(8, dims=(16, 4), seed=0)
    history = pretrain_autoencoder(autoencoder, x, epochs=30, batch_size=16, verbose=0,
                                   optimizer=keras.optimizers.SGD(0.1, momentum=0.9))
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_layerwise_pretraining_trains_every_layer():
    x = np.random.default_rng(0).random((64, 8)).astype("float32")
    autoencoder, _ = build_autoencoder(8, dims=(16, 4), seed=0)
    before = [w.copy() for w in autoencoder.get_weights()]
    history = pretrain_autoencoder(autoencoder, x, method="layerwise", epochs=2,
                                   layerwise_epochs=3, batch_size=16, verbose=0)
    assert len(history.history["loss"]) == 2
    after = autoencoder.get_weights()
    assert all(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))


@needs_tensorflow
def test_pretraining_accepts_a_dataset():
    import tensorflow as tf

    x = np.random.default_rng(0).random((32, 8)).astype("float32")
    autoencoder, _ = build_autoencoder(8, dims=(4,), seed=0)
    data = tf.data.Dataset.from_tensor_slices(x).batch(8)
    history = pretrain_autoencoder(autoencoder, data, method="layerwise", epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"input_dim": 0}, ValueError, r"`input_dim` must be an integer >= 1. Received: input_dim=0"),
        ({"input_dim": 8, "dims": ()}, ValueError, r"`dims` must list at least one layer width"),
        ({"input_dim": 8, "dims": (4, 0)}, ValueError, r"`dims\[1\]` must be an integer >= 1"),
    ],
)
def test_build_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        build_autoencoder(**kwargs)


def test_pretrain_errors():
    autoencoder, _ = build_autoencoder(8, dims=(4,))
    x = np.zeros((4, 8), "float32")
    with pytest.raises(ValueError, match=r"`method` must be one of .*Received: method='greedy'"):
        pretrain_autoencoder(autoencoder, x, method="greedy")
    with pytest.raises(ValueError, match=r"`dropout_rate` must be < 1"):
        pretrain_autoencoder(autoencoder, x, dropout_rate=1.0)
    with pytest.raises(ValueError, match=r"per-sample shape \(8,\).*Received: x with shape \(4, 3\)"):
        pretrain_autoencoder(autoencoder, np.zeros((4, 3)))
    inputs = keras.Input((8,))
    plain = keras.Model(inputs, keras.layers.Dense(8)(inputs))
    with pytest.raises(ValueError, match="needs an autoencoder made by `build_autoencoder`"):
        pretrain_autoencoder(plain, x, method="layerwise", epochs=1, verbose=0)


def test_encoder_of_a_reloaded_autoencoder_matches_the_built_encoder(tmp_path):
    autoencoder, encoder = build_autoencoder(16, dims=(8, 3), seed=0)
    autoencoder.save(tmp_path / "ae.keras")
    reloaded = keras.saving.load_model(tmp_path / "ae.keras")
    x = np.random.default_rng(0).random((5, 16)).astype("float32")
    np.testing.assert_array_equal(encoder_of(reloaded).predict(x, verbose=0),
                                  encoder.predict(x, verbose=0))
    assert encoder_of(reloaded).layers[-1] is reloaded.get_layer("encoder_1")
