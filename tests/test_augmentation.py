"""DEC-DA's augmentation: the layer, DEC's loss with it, and the pipeline option."""

import keras
import numpy as np
import pytest
from conftest import tensorflow_only

from keras_dec import DEC, Recipe, build_autoencoder, train_dec
from keras_dec.layers.image_augmentation import ImageAugmentation

SIDE = 16


def centre_of_mass(images):
    """Each image's (row, column) centre of mass, float64."""
    images = np.asarray(images, "float64").reshape(len(images), SIDE, SIDE)
    rows, cols = np.mgrid[:SIDE, :SIDE]
    mass = images.sum((1, 2))
    return np.stack([(images * rows).sum((1, 2)) / mass, (images * cols).sum((1, 2)) / mass], 1)


def dots(n=64):
    """Flat 16x16 images, each one bright pixel at the centre."""
    x = np.zeros((n, SIDE, SIDE), "float32")
    x[:, SIDE // 2, SIDE // 2] = 1.0
    return x.reshape(n, -1)


def test_outside_training_the_input_is_returned_unchanged():
    x = np.random.default_rng(0).random((5, SIDE * SIDE)).astype("float32")
    layer = ImageAugmentation((SIDE, SIDE), seed=0)
    for training in (None, False):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x, training=training)), x)
    still = ImageAugmentation((SIDE, SIDE, 1), shift=0.0, rotation=0.0, seed=0)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(still(x, training=True)), x)


def test_shifts_move_each_image_by_at_most_the_shift_and_keep_its_mass():
    x = dots()
    out = keras.ops.convert_to_numpy(
        ImageAugmentation((SIDE, SIDE), shift=0.25, rotation=0.0, seed=1)(x, training=True))
    assert out.shape == x.shape
    moved = centre_of_mass(out) - centre_of_mass(x)
    np.testing.assert_allclose(out.sum(1), 1.0, rtol=1e-5)  # bilinear: nothing lost
    assert np.abs(moved).max() <= 0.25 * SIDE + 1e-4
    assert np.abs(moved).max() > 1.0 and len(np.unique(moved.round(3), axis=0)) > 32


def test_rotations_keep_the_distance_to_the_centre_and_stay_within_the_angle():
    x = np.zeros((64, SIDE, SIDE), "float32")
    x[:, SIDE // 2, SIDE - 3] = 1.0  # 5 pixels right of the centre, 7.5 - 0.5
    layer = ImageAugmentation((SIDE, SIDE, 1), shift=0.0, rotation=20.0, seed=2)
    out = keras.ops.convert_to_numpy(layer(x.reshape(64, -1), training=True))
    centre = (SIDE - 1) / 2
    before = centre_of_mass(x.reshape(64, -1)) - centre
    after = centre_of_mass(out) - centre
    np.testing.assert_allclose(np.hypot(*after.T), np.hypot(*before.T), atol=0.15)
    angle = np.degrees(np.arctan2(after[:, 0], after[:, 1]) - np.arctan2(before[:, 0],
                                                                         before[:, 1]))
    assert np.abs(angle).max() <= 20.0 + 1.0 and np.abs(angle).max() > 5.0


def test_draws_are_seeded_and_the_state_is_saved_with_the_model(tmp_path):
    x = np.random.default_rng(3).random((8, SIDE * SIDE)).astype("float32")
    a, b = ImageAugmentation((SIDE, SIDE), seed=4), ImageAugmentation((SIDE, SIDE), seed=4)
    first = keras.ops.convert_to_numpy(a(x, training=True))
    np.testing.assert_array_equal(first, keras.ops.convert_to_numpy(b(x, training=True)))
    assert not np.allclose(first, keras.ops.convert_to_numpy(a(x, training=True)))

    _, encoder = build_autoencoder(SIDE * SIDE, dims=(4,), seed=0)
    dec = DEC(encoder, 3, augmentation=ImageAugmentation((SIDE, SIDE), seed=5))
    dec.set_centers(np.random.default_rng(0).normal(size=(3, 4)))
    dec.augmentation(x, training=True)  # advance the state past its start
    dec.save(tmp_path / "dec.keras")
    loaded = keras.saving.load_model(tmp_path / "dec.keras")
    assert loaded.augmentation.get_config() == dec.augmentation.get_config()
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded.augmentation(x, training=True)),
                                  keras.ops.convert_to_numpy(dec.augmentation(x, training=True)))


def test_q_comes_from_the_augmented_batch_and_p_from_the_clean_one():
    rng = np.random.default_rng(6)
    x = rng.random((32, SIDE * SIDE)).astype("float32")
    _, encoder = build_autoencoder(SIDE * SIDE, dims=(3,), seed=0)  # linear: z = xW + b
    dec = DEC(encoder, 4, augmentation=ImageAugmentation((SIDE, SIDE), seed=7))
    centers = rng.normal(size=(4, 3))
    dec.set_centers(centers)
    dec.refresh_target(x)
    twin = ImageAugmentation((SIDE, SIDE), seed=7)
    x_aug = keras.ops.convert_to_numpy(twin(x, training=True)).astype("float64")
    w, b = (np.asarray(v, "float64") for v in encoder.get_layer("encoder_0").get_weights())

    def soft(z):
        q = 1.0 / (1.0 + np.square(z[:, None] - centers[None]).sum(-1))
        return q / q.sum(1, keepdims=True)

    q_clean, q_aug = soft(x @ w + b), soft(x_aug @ w + b)
    p = q_clean**2 / q_clean.sum(0)
    p /= p.sum(1, keepdims=True)
    _, per_sample = dec.dec_loss(keras.ops.convert_to_tensor(x), training=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(per_sample),
                               np.sum(p * np.log(p / q_aug), 1), rtol=1e-4, atol=1e-6)
    _, clean = dec.dec_loss(keras.ops.convert_to_tensor(x), training=False)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(clean),
                               np.sum(p * np.log(p / q_clean), 1), rtol=1e-4, atol=1e-6)


def test_layer_errors():
    for shape in (None, (8,), (1, 2, 3, 4)):
        with pytest.raises(ValueError, match=r"`image_shape` must be \(height, width\)"):
            ImageAugmentation(shape)
    with pytest.raises(ValueError, match=r"`image_shape\[1\]` must be an integer >= 1"):
        ImageAugmentation((8, 0))
    with pytest.raises(ValueError, match="`shift` must be below 1.*Received: shift=1.0"):
        ImageAugmentation((8, 8), shift=1.0)
    with pytest.raises(ValueError, match=r"`shift` must be a number in \[0, 1\]"):
        ImageAugmentation((8, 8), shift=-0.1)
    for rotation in (181, -1, "10"):
        with pytest.raises(ValueError, match=r"`rotation` must be a number of degrees in \[0, "
                           rf"180\]. Received: rotation={rotation!r}"):
            ImageAugmentation((8, 8), rotation=rotation)
    with pytest.raises(ValueError, match="`seed` must be an integer >= 0"):
        ImageAugmentation((8, 8), seed=-1)
    _, encoder = build_autoencoder(4, dims=(2,))
    with pytest.raises(TypeError, match="`augmentation` must be a Keras layer.*Received: "
                       "augmentation of type str"):
        DEC(encoder, 2, augmentation="shift")


def test_recipe_errors():
    with pytest.raises(ValueError, match="`augment` must be 'none', 'pretrain', 'clustering' or 'all'. Received: augment=True"):
        Recipe(augment=True)
    with pytest.raises(ValueError, match="`augment_shift` must be below 1"):
        Recipe(augment_shift=1.0)
    with pytest.raises(ValueError, match=r"`augment_rotation` must be a number of degrees in "
                       r"\[0, 180\]. Received: augment_rotation=200"):
        Recipe(augment_rotation=200)


RECIPE = Recipe(dims=(16, 4), pretrain_epochs=2, pretrain_learning_rate=0.1, max_iter=12,
                update_interval=4, n_init=2, tol=0.0, augment="all", augment_rotation=15.0)


def images(n=96):
    rng = np.random.default_rng(8)
    return rng.random((n, 8, 8)).astype("float32")


def test_pretraining_sees_a_fresh_seeded_draw_each_epoch():
    from keras_dec.pipeline.builders import augmented_rows

    rows = images().reshape(96, -1)

    def draw(epoch, recipe=RECIPE):
        return augmented_rows(recipe, (8, 8), 3, rows, epoch)

    first, again, second = draw(0), draw(0), draw(1)
    np.testing.assert_array_equal(first, again)
    assert first.shape == rows.shape and not np.allclose(first, second)
    assert not np.allclose(first, rows)
    assert draw(0, RECIPE.replace(augment="clustering")) is None
    from keras_dec.pipeline.builders import build_augmentation

    assert isinstance(build_augmentation(RECIPE.replace(augment="clustering"), (8, 8), 3, "dec"),
                      ImageAugmentation)
    pretrain_only = RECIPE.replace(augment="pretrain")
    assert build_augmentation(pretrain_only, (8, 8), 3, "dec") is None
    assert build_augmentation(pretrain_only, (8, 8), 3, "pretrain") is not None


class _Interrupt(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            raise KeyboardInterrupt


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    return train_dec(images(), 3, RECIPE, seed=1, verbose=0,
                     output=tmp_path_factory.mktemp("full"))


@pytest.mark.parametrize("stage", ["pretrain", "dec"])
def test_an_augmented_run_resumes_to_the_same_model(uninterrupted, tmp_path, stage):
    x = images()
    full, report = uninterrupted
    assert isinstance(full.augmentation, ImageAugmentation)
    assert report["recipe"]["augment"] == "all" and full.augmentation.image_shape == (8, 8, 1)
    with pytest.raises(KeyboardInterrupt):
        train_dec(x, 3, RECIPE, seed=1, verbose=0, output=tmp_path / "stopped",
                  **{f"{stage}_callbacks": [_Interrupt()]})
    resumed, _ = train_dec(x, 3, RECIPE, seed=1, verbose=0, output=tmp_path / "stopped")
    np.testing.assert_allclose(resumed.cluster_centers_, full.cluster_centers_, rtol=1e-5,
                               atol=1e-6)
    flat = x.reshape(len(x), -1)  # the model takes the flattened rows train_dec trained on
    np.testing.assert_array_equal(resumed.predict_clusters(flat), full.predict_clusters(flat))


def test_augmentation_needs_images(tmp_path):
    from keras_dec import ShardStream

    table = np.random.default_rng(9).random((40, 13)).astype("float32")
    with pytest.raises(ValueError, match=r"Augmentation \(`augment='all'`\) needs image data"
                       r".*Received: x with per-sample "
                       r"shape \(13,\) and data_source=None"):
        train_dec(table, 3, RECIPE, verbose=0)
    flat = images().reshape(96, -1)
    with pytest.raises(ValueError, match="shape \\(64,\\) and data_source='mine.npy'"):
        train_dec(flat, 3, RECIPE, verbose=0, data_source="mine.npy")
    np.save(tmp_path / "rows.npy", flat)
    with pytest.raises(ValueError, match="needs the data in memory.*with a ShardStream"):
        train_dec(ShardStream(str(tmp_path / "rows.npy")), 3, RECIPE, verbose=0)


def test_cli_flags_set_the_recipe():
    from keras_dec.cli import build_parser, recipe_from_args

    args = build_parser().parse_args(["train", "--dataset", "digits", "--augment", "all",
                                      "--augment-shift", "0.2", "--augment-rotation", "5"])
    recipe = recipe_from_args("digits", args)
    assert (recipe.augment, recipe.augment_shift, recipe.augment_rotation) == ("all", 0.2, 5.0)
    assert recipe_from_args("digits", build_parser().parse_args(["train"])).augment == "none"


@tensorflow_only
def test_the_exported_graph_does_not_augment(tmp_path):
    import tensorflow as tf

    from keras_dec.export import export_saved_model

    x = images(32).reshape(32, -1)
    _, encoder = build_autoencoder(64, dims=(4,), seed=0)
    dec = DEC(encoder, 3, augmentation=ImageAugmentation((8, 8), seed=0))
    dec.set_centers(np.random.default_rng(0).normal(size=(3, 4)))
    served = tf.saved_model.load(export_saved_model(dec, tmp_path))
    for _ in range(2):
        out = served.signatures["predict"](features=tf.constant(x))
        np.testing.assert_array_equal(out["cluster_id"].numpy(), dec.predict_clusters(x))
