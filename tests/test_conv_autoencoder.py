"""DCEC's convolutional backbone: shapes, the pipeline option, save and export."""

import json

import keras
import numpy as np
import pytest
from conftest import tensorflow_only

from keras_dec import DEC, Recipe, decoder_of, train_dec
from keras_dec.backbones.autoencoder import encoder_of
from keras_dec.backbones.conv_autoencoder import build_conv_autoencoder


@pytest.mark.parametrize("shape, inner", [((8, 8), 1), ((28, 28), 3), ((16, 16, 3), 2),
                                          ((20, 20), 2)])
def test_shapes_round_trip_and_the_helpers_find_encoder_and_decoder(shape, inner):
    autoencoder, encoder = build_conv_autoencoder(shape, embedding_dim=5, seed=0)
    n = int(np.prod(shape))
    assert encoder.input_shape == (None, n) and encoder.output_shape == (None, 5)
    assert autoencoder.output_shape == (None, n)
    assert autoencoder.get_layer("encoder_3").output.shape[1:3] == (inner, inner)
    x = np.random.default_rng(0).random((3, n)).astype("float32")
    decoder = decoder_of(autoencoder)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(decoder(encoder_of(autoencoder)(x))),
                               keras.ops.convert_to_numpy(autoencoder(x)), rtol=1e-5, atol=1e-6)


def test_the_embedding_is_a_linear_map_of_the_flattened_convolutions():
    autoencoder, encoder = build_conv_autoencoder((8, 8), embedding_dim=3, seed=1)
    x = np.random.default_rng(1).random((4, 64)).astype("float32")
    features = keras.Model(encoder.input, encoder.get_layer("encoder_4").output)(x)
    kernel, bias = encoder.get_layer("encoder_5").get_weights()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(encoder(x)),
                               keras.ops.convert_to_numpy(features) @ kernel + bias,
                               rtol=1e-5, atol=1e-6)
    same, _ = build_conv_autoencoder((8, 8), embedding_dim=3, seed=1)
    for a, b in zip(same.get_weights(), autoencoder.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_backbone_errors():
    for shape in ((10, 10), (4, 4), (8, 12), (8, 8, 1, 1)):
        with pytest.raises(ValueError, match=r"multiples of 4, at least 8.*Received: "
                           rf"image_shape={shape!r}".replace("(", r"\(").replace(")", r"\)")):
            build_conv_autoencoder(shape)
    with pytest.raises(ValueError, match="`filters` must list three.*Received: filters=\\(8, 8\\)"):
        build_conv_autoencoder((8, 8), filters=(8, 8))
    with pytest.raises(ValueError, match="`embedding_dim` must be an integer >= 1"):
        build_conv_autoencoder((8, 8), embedding_dim=0)
    with pytest.raises(ValueError, match="`conv_filters` must list three"):
        Recipe(conv_filters=(32, 64))
    with pytest.raises(ValueError, match="the conv backbone pretrains end to end"):
        Recipe(backbone="conv", pretrain_method="layerwise")
    with pytest.raises(ValueError, match="`backbone` must be 'dense' or 'conv'. Received: backbone='resnet'"):
        Recipe(backbone="resnet")
    with pytest.raises(ValueError, match="`pretrain_optimizer` must be 'sgd' or 'adam'"):
        Recipe(pretrain_optimizer="rmsprop")


RECIPE = Recipe(dims=(4,), backbone="conv", conv_filters=(4, 8, 8), pretrain_optimizer="adam",
                pretrain_learning_rate=0.01, pretrain_epochs=2, max_iter=6, update_interval=3,
                n_init=2, tol=0.0)


def test_train_dec_with_the_conv_backbone_saves_a_model_on_flat_rows(tmp_path):
    x = np.random.default_rng(2).random((48, 8, 8)).astype("float32")
    dec, report = train_dec(x, 3, RECIPE, seed=0, verbose=0, output=tmp_path / "run")
    assert dec.encoder.input_shape == (None, 64) and dec.encoder.output_shape == (None, 4)
    assert report["recipe"]["backbone"] == "conv" and report["input_shape"] == [8, 8]
    assert dec.n_iter_ == 6
    loaded = keras.saving.load_model(tmp_path / "run" / "model.keras")
    flat = x.reshape(48, -1)
    np.testing.assert_array_equal(loaded.predict_clusters(flat), dec.predict_clusters(flat))
    autoencoder = keras.saving.load_model(next((tmp_path / "run" / "checkpoints").glob(
        "autoencoder-*.keras")))
    assert isinstance(autoencoder.optimizer, keras.optimizers.Adam)
    # IDEC on the conv backbone: tests/test_select_k.py.


def test_the_conv_backbone_needs_images_of_a_size_it_can_take():
    with pytest.raises(ValueError, match="The conv backbone needs image data.*Received: x with "
                       r"per-sample shape \(13,\)"):
        train_dec(np.random.default_rng(3).random((30, 13)).astype("float32"), 2, RECIPE,
                  verbose=0)
    with pytest.raises(ValueError, match=r"multiples of 4.*Received: image_shape=\(10, 10\)"):
        train_dec(np.random.default_rng(3).random((30, 10, 10)).astype("float32"), 2, RECIPE,
                  verbose=0)


def test_cli_backbone_flag_takes_dcec_pretraining_unless_overridden(tmp_path):
    from keras_dec import RECIPES
    from keras_dec.cli import build_parser, main, recipe_from_args

    def cli_recipe(*flags):
        return recipe_from_args("digits", build_parser().parse_args(["train", *flags]))

    assert cli_recipe("--backbone", "conv") == RECIPES["digits_conv"]
    assert RECIPES["digits_conv"].pretrain_optimizer == "adam"
    assert cli_recipe("--backbone", "conv", "--pretrain-epochs", "3").pretrain_epochs == 3
    assert cli_recipe("--conv-filters", "8,8,16").conv_filters == (8, 8, 16)
    assert main(["train", "--dataset", "digits", "--max-samples", "60", "--n-clusters", "3",
                 "--output", str(tmp_path / "cli"), "--quiet", "--backbone", "conv",
                 "--conv-filters", "4,8,8", "--dims", "4", "--pretrain-epochs", "1",
                 "--max-iter", "3"]) == 0
    metrics = json.loads((tmp_path / "cli" / "metrics.json").read_text())
    assert metrics["recipe"]["backbone"] == "conv"


@tensorflow_only
def test_a_conv_dec_exports_to_saved_model_and_tflite_with_parity(tmp_path):
    from keras_dec.export import export_for_serving

    rng = np.random.default_rng(4)
    x = rng.random((64, 64)).astype("float32")
    _, encoder = build_conv_autoencoder((8, 8), embedding_dim=4, filters=(4, 8, 8), seed=0)
    dec = DEC(encoder, 3)
    dec.set_centers(rng.normal(size=(3, 4)))
    result = export_for_serving(dec, tmp_path, tflite=("none",), x=x)
    assert result["parity"]["saved_model"]["max_abs_diff"] <= 1e-5
    assert result["parity"]["tflite_none"]["agreement"] == 1.0
