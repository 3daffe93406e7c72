import keras
import numpy as np
import pytest
from conftest import needs_tensorflow, small_encoder

from keras_dec import DEC, cluster_accuracy


def fitted_dec(blobs, **kwargs):
    x, _ = blobs
    dec = DEC(small_encoder(), n_clusters=3, update_interval=4, **kwargs)
    dec.initialize_centers(x, seed=0)
    dec.compile(jit_compile=False)
    return dec


def test_numpy_flow_clusters_blobs(blobs):
    x, y = blobs
    dec = fitted_dec(blobs)
    history = dec.fit(x, batch_size=32, epochs=3, verbose=0)
    assert set(history.history) == {"loss", "label_change"}
    assert all(np.isfinite(history.history["loss"]))
    q = dec.predict(x, verbose=0)
    assert q.shape == (120, 3)
    np.testing.assert_allclose(q.sum(1), 1.0, atol=1e-5)
    labels = dec.predict_clusters(x)
    assert labels.dtype == np.int32
    np.testing.assert_array_equal(labels, q.argmax(1))
    # The encoder's initial weights come from each backend's own RNG: on
    # TensorFlow and JAX every point lands right, on PyTorch one of 120 may not.
    assert cluster_accuracy(y, labels) >= 0.99
    assert dec.embed(x).shape == (120, 3)


@needs_tensorflow
def test_dataset_flow_with_labels_ignored(blobs):
    import tensorflow as tf

    x, y = blobs
    dec = fitted_dec(blobs, tol=0.0)
    data = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(120, seed=0).batch(32)
    history = dec.fit(data, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert dec.predict_clusters(tf.data.Dataset.from_tensor_slices(x).batch(50)).shape == (120,)


@needs_tensorflow
def test_repeated_stream_uses_target_data(blobs):
    import tensorflow as tf

    x, _ = blobs
    dec = fitted_dec(blobs, tol=0.0)
    stream = tf.data.Dataset.from_tensor_slices(x).repeat().batch(32)
    with pytest.raises(ValueError, match="repeats forever. Pass `target_data=`"):
        dec.fit(stream, epochs=1, steps_per_epoch=5, verbose=0)
    one_pass = tf.data.Dataset.from_tensor_slices(x).batch(64)
    dec.fit(stream, epochs=2, steps_per_epoch=5, target_data=one_pass, verbose=0)
    assert dec.n_iter_ == 10


def test_loss_in_logs_is_the_running_mean_not_stale(blobs):
    x, _ = blobs
    dec = fitted_dec(blobs)
    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(logs["loss"])

    dec.fit(x, batch_size=32, epochs=1, shuffle=False, verbose=0, callbacks=[Record()])
    assert len(seen) == 4 and len(set(seen)) > 1


def test_keras_callbacks_work(blobs, tmp_path):
    x, _ = blobs
    dec = fitted_dec(blobs, tol=0.0)
    callbacks = [
        keras.callbacks.CSVLogger(str(tmp_path / "log.csv")),
        keras.callbacks.EarlyStopping(monitor="loss", patience=1),
        keras.callbacks.ModelCheckpoint(str(tmp_path / "ckpt.keras")),
        keras.callbacks.TensorBoard(str(tmp_path / "tb")),
    ]
    dec.fit(x, batch_size=32, epochs=3, verbose=0, callbacks=callbacks)
    header = (tmp_path / "log.csv").read_text().splitlines()[0]
    assert {"epoch", "label_change", "loss"} <= set(header.split(","))
    restored = keras.saving.load_model(tmp_path / "ckpt.keras")
    np.testing.assert_allclose(restored.predict(x, verbose=0), dec.predict(x, verbose=0), atol=1e-6)
    assert any((tmp_path / "tb").rglob("events.out.tfevents*"))


def test_validation_data_reports_val_loss(blobs):
    x, _ = blobs
    dec = fitted_dec(blobs)
    history = dec.fit(x, batch_size=32, epochs=1, validation_data=(x,), verbose=0)
    assert "val_loss" in history.history


@pytest.mark.parametrize("batch", [1, 257])
def test_save_load_round_trip_and_keep_training(blobs, tmp_path, batch):
    x, _ = blobs
    dec = fitted_dec(blobs, alpha=2.0)
    dec.fit(x, batch_size=32, epochs=1, verbose=0)
    path = tmp_path / "dec.keras"
    dec.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, DEC) and loaded.alpha == 2.0 and loaded.update_interval == 4
    xs = np.resize(x, (batch, 6))
    np.testing.assert_array_equal(loaded.predict(xs, verbose=0), dec.predict(xs, verbose=0))
    assert loaded.n_iter_ == dec.n_iter_
    np.testing.assert_array_equal(loaded.cluster_frequencies.numpy(), dec.cluster_frequencies.numpy())
    # Same state, same next steps: both continue identically.
    dec.fit(x, batch_size=32, epochs=1, shuffle=False, verbose=0)
    loaded.fit(x, batch_size=32, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_allclose(loaded.cluster_centers_, dec.cluster_centers_, atol=1e-6)


def test_convolutional_encoder():
    rng = np.random.default_rng(0)
    x = rng.random((40, 8, 8, 1)).astype("float32")
    inputs = keras.Input((8, 8, 1))
    h = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    h = keras.layers.Flatten()(h)
    encoder = keras.Model(inputs, keras.layers.Dense(2)(h))
    dec = DEC(encoder, n_clusters=2, update_interval=2)
    dec.initialize_centers(x, seed=0)
    dec.compile(jit_compile=False)
    dec.fit(x, batch_size=16, epochs=1, verbose=0)
    assert dec.predict_clusters(x).shape == (40,)


def test_empty_cluster_during_training_gives_no_nan(blobs):
    x, _ = blobs
    dec = DEC(small_encoder(), n_clusters=3, update_interval=2)
    far = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [1e6, 1e6, 1e6]], dtype="float32")
    dec.set_centers(far)  # the third centre gets no points: f_3 ~ 0
    dec.compile(jit_compile=False)
    history = dec.fit(x, batch_size=32, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert np.all(np.isfinite(dec.predict(x, verbose=0)))


def test_backup_and_restore_resumes_dec_training_exactly(blobs, tmp_path):
    """keras.callbacks.BackupAndRestore covers the DEC state: it lives in model weights."""
    x, _ = blobs

    def make():
        keras.utils.set_random_seed(0)
        dec = DEC(small_encoder(), n_clusters=3, update_interval=3, tol=0.0)
        dec.set_centers(np.random.default_rng(1).normal(size=(3, 3)))
        dec.compile(jit_compile=False)
        return dec

    class Crash(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                raise RuntimeError("killed")

    reference = make()
    reference.fit(x, batch_size=32, epochs=5, shuffle=False, verbose=0)

    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    crashed = make()
    with pytest.raises(RuntimeError, match="killed"):
        crashed.fit(x, batch_size=32, epochs=5, shuffle=False, verbose=0,
                    callbacks=[backup, Crash()])
    resumed = make()  # a new process would rebuild the model the same way
    resumed.fit(x, batch_size=32, epochs=5, shuffle=False, verbose=0, callbacks=[backup])
    assert resumed.n_iter_ == reference.n_iter_ == 20
    np.testing.assert_allclose(resumed.cluster_centers_, reference.cluster_centers_, atol=1e-6)
    for a, b in zip(resumed.encoder.get_weights(), reference.encoder.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
