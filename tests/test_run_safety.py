"""Round two of reliability: runs identified by content, one writer per folder, files others
can read, outputs that never replace inputs, labels that are what they claim."""

import json
import os
import stat
import subprocess
import sys

import numpy as np
import pytest
from conftest import needs_tensorflow

from keras_dec import Recipe, train_dec
from keras_dec.cli import main
from keras_dec.datasets import load_array
from keras_dec.errors import FolderInUseError
from keras_dec.utils.folder_lock import exclusive_folder

RECIPE = Recipe(dims=(8, 3), pretrain_epochs=2, max_iter=6, update_interval=3)
TINY = ["--dims", "8,3", "--pretrain-epochs", "2", "--max-iter", "6", "--quiet", "--seed", "0"]


def features(seed=0, n=60, d=5):
    return np.random.default_rng(seed).random((n, d)).astype("float32")


@pytest.mark.parametrize("change", ["columns_reversed", "same_sum"])
def test_rerun_on_other_data_with_the_same_sum_is_not_taken_as_finished(tmp_path, change):
    x = features()
    train_dec(x, 3, RECIPE, output=tmp_path, seed=0, verbose=0)
    other = x[:, ::-1].copy() if change == "columns_reversed" else x.copy()
    if change == "same_sum":
        other[0, 0] += 0.25
        other[1, 1] -= 0.25
    assert np.float64(other.sum(dtype="float64")) == pytest.approx(x.sum(dtype="float64"))
    with pytest.raises(ValueError, match="holds checkpoints of a different run"):
        train_dec(other, 3, RECIPE, output=tmp_path, seed=0, verbose=0)
    _, report = train_dec(x, 3, RECIPE, output=tmp_path, seed=0, verbose=0)
    assert report["resumed"] == "already finished"


def test_second_writer_on_a_folder_fails_at_once(tmp_path):
    with exclusive_folder(tmp_path, "a test holding it"):
        with pytest.raises(FolderInUseError, match=r"in use by another keras-dec process \(pid "):
            train_dec(features(), 3, RECIPE, output=tmp_path, seed=0, verbose=0)
        result = subprocess.run(
            [sys.executable, "-m", "keras_dec.cli", "train", "--dataset", "digits",
             "--output", str(tmp_path), *TINY], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert f"pid {os.getpid()}" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "checkpoints").exists()
    # The kernel dropped the lock with its holder: the folder is usable again.
    train_dec(features(), 3, RECIPE, output=tmp_path, seed=0, verbose=0)


def test_outputs_get_the_modes_of_an_ordinary_write(tmp_path):
    old = os.umask(0o022)
    try:
        train_dec(features(), 3, RECIPE, output=tmp_path, seed=0, verbose=0)
    finally:
        os.umask(old)
    checkpoints = sorted(os.listdir(tmp_path / "checkpoints"))
    # One model file per stage, the one the state names; older epochs' files are gone.
    assert checkpoints[0] == "autoencoder-pretrain-000002.keras" and len(checkpoints) == 3
    assert checkpoints[1].startswith("dec-dec-") and checkpoints[2] == "state.json"
    for name in ("model.keras", "metrics.json", "history.csv",
                 *(f"checkpoints/{c}" for c in checkpoints)):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o644, name


@needs_tensorflow
def test_export_version_folder_is_readable_by_others(tmp_path):
    from conftest import BACKEND

    if BACKEND != "tensorflow":
        pytest.skip("export runs on the TensorFlow backend")
    from keras_dec.export import export_saved_model

    dec, _ = train_dec(features(), 3, RECIPE, seed=0, verbose=0)
    old = os.umask(0o022)
    try:
        path = export_saved_model(dec, tmp_path, name="dec")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o755


@pytest.mark.parametrize("target", ["input", "link", "existing"])
def test_predict_never_replaces_its_input_or_an_existing_file(tmp_path, target):
    x = features()
    dec, _ = train_dec(x, 3, RECIPE, seed=0, verbose=0)
    dec.save(tmp_path / "m.keras")
    np.save(tmp_path / "x.npy", x)
    os.symlink(tmp_path / "x.npy", tmp_path / "link.npy")
    np.save(tmp_path / "old.npy", np.zeros(3))
    output = {"input": "x.npy", "link": "link.npy", "existing": "old.npy"}[target]
    args = ["predict", "--model", str(tmp_path / "m.keras"), "--input", str(tmp_path / "x.npy"),
            "--output", str(tmp_path / output)]
    assert main(args) == 2
    np.testing.assert_array_equal(np.load(tmp_path / "x.npy"), x)
    np.testing.assert_array_equal(np.load(tmp_path / "old.npy"), np.zeros(3))
    if target == "existing":
        assert main([*args, "--overwrite"]) == 0
        assert np.load(tmp_path / "old.npy").shape == (60,)


def test_predict_refuses_unscaled_integers_as_train_does(tmp_path, capsys):
    dec, _ = train_dec(features(), 3, RECIPE, seed=0, verbose=0)
    dec.save(tmp_path / "m.keras")
    np.save(tmp_path / "ints.npy", np.arange(300).reshape(60, 5) % 256)
    code = main(["predict", "--model", str(tmp_path / "m.keras"), "--input",
                 str(tmp_path / "ints.npy"), "--output", str(tmp_path / "ids.npy")])
    assert code == 2 and not (tmp_path / "ids.npy").exists()
    assert "`input` holds integers from 0 to 255: unscaled" in capsys.readouterr().err


@pytest.mark.parametrize(
    "y, message",
    [
        (np.linspace(0.05, 0.95, 60), r"60 value\(s\) are not whole numbers"),
        (np.where(np.arange(60) == 3, np.nan, 1.0), r"1 value\(s\) are not whole numbers"),
        (np.zeros((60, 2), "int64"), "one label per sample"),
    ],
)
def test_labels_that_are_not_integers_or_strings_are_refused(tmp_path, y, message):
    np.savez(tmp_path / "d.npz", x=features(), y=y)
    with pytest.raises(ValueError, match=rf"labels `y` in .*d.npz.*{message}"):
        load_array(tmp_path / "d.npz")


def test_string_and_whole_float_labels_are_read_as_codes(tmp_path):
    np.savez(tmp_path / "s.npz", x=features(n=4), y=np.array(["b", "a", "b", "c"]))
    np.testing.assert_array_equal(load_array(tmp_path / "s.npz")[1], [1, 0, 1, 2])
    np.savez(tmp_path / "f.npz", x=features(n=3), y=np.array([2.0, 0.0, 1.0]))
    np.testing.assert_array_equal(load_array(tmp_path / "f.npz")[1], [2, 0, 1])


@pytest.mark.parametrize(
    "output, message",
    [("", "`output` must name a folder. Received: output=''"),
     ("{tmp}/a_file", "`output` must be a folder, but")],
)
def test_bad_output_folder_is_refused_before_any_work(tmp_path, output, message):
    (tmp_path / "a_file").write_text("x")
    output = output.replace("{tmp}", str(tmp_path))
    with pytest.raises(ValueError, match=message):
        train_dec(features(), 3, RECIPE, output=output, seed=0, verbose=0)
    assert (tmp_path / "a_file").read_text() == "x"


def test_one_cluster_is_refused_by_the_parser():
    result = subprocess.run([sys.executable, "-m", "keras_dec.cli", "train", "--n-clusters", "1"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "expected at least 2 clusters, got 1" in result.stderr


@needs_tensorflow
@pytest.mark.parametrize("n_nan", [1, 600])
def test_nan_in_a_tf_data_stream_stops_training(n_nan):
    import tensorflow as tf
    from conftest import small_encoder

    import keras_dec

    x = np.random.default_rng(0).random((100, 6)).astype("float32")
    dec = keras_dec.DEC(small_encoder(), n_clusters=3, update_interval=2)
    dec.initialize_centers(x, seed=0)
    dec.compile()
    bad = x.copy()
    bad.reshape(-1)[:n_nan] = np.nan
    stream = tf.data.Dataset.from_tensor_slices(bad).batch(16)
    with pytest.raises(FloatingPointError, match="NaN|nan"):
        dec.fit(stream, epochs=3, verbose=0)


def test_an_encoder_with_a_lambda_layer_trains_saves_and_loads_unsafely(tmp_path):
    import keras

    import keras_dec

    inputs = keras.Input((5,))
    h = keras.layers.Lambda(lambda t: t * 2.0)(inputs)
    encoder = keras.Model(inputs, keras.layers.Dense(3)(h))
    x = features()
    dec = keras_dec.DEC(encoder, n_clusters=3, update_interval=2)
    dec.initialize_centers(x, seed=0)
    dec.compile()
    dec.fit(x, batch_size=16, epochs=1, verbose=0)
    dec.save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="holds a Lambda layer"):
        keras_dec.load_model(tmp_path / "m.keras")  # safe mode: refused
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=False)  # trusted file
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded.predict(x, verbose=0)),
                               dec.predict(x, verbose=0), atol=1e-6)


def test_predict_takes_the_shape_train_took_flattened_the_same_way(tmp_path, capsys):
    x3 = np.random.default_rng(0).random((60, 2, 3)).astype("float32")
    np.save(tmp_path / "x3.npy", x3)
    out = tmp_path / "run"
    assert main(["train", "--data", str(tmp_path / "x3.npy"), "--n-clusters", "3",
                 "--output", str(out), *TINY]) == 0
    assert json.loads((out / "metrics.json").read_text())["input_shape"] == [2, 3]
    assert main(["predict", "--model", str(out / "model.keras"), "--input",
                 str(tmp_path / "x3.npy"), "--output", str(tmp_path / "ids.npy")]) == 0
    from keras_dec import load_model

    want = load_model(out / "model.keras").predict_clusters(x3.reshape(60, 6))
    np.testing.assert_array_equal(np.load(tmp_path / "ids.npy"), want)
    # Another shape with the same size is not silently reinterpreted.
    np.save(tmp_path / "x32.npy", x3.reshape(60, 3, 2))
    assert main(["predict", "--model", str(out / "model.keras"), "--input",
                 str(tmp_path / "x32.npy")]) == 2
    assert "must have per-sample shape (6,)" in capsys.readouterr().err
    from conftest import BACKEND

    if BACKEND == "tensorflow":  # export reads the training file back, as trained
        assert main(["export", "--model", str(out / "model.keras"), "--base-path",
                     str(tmp_path / "models"), "--tflite", "none"]) == 0
        saved = tmp_path / "models" / "dec" / "1"
        assert main(["predict", "--model", str(saved), "--input", str(tmp_path / "x3.npy"),
                     "--output", str(tmp_path / "ids_sm.npy")]) == 0
        np.testing.assert_array_equal(np.load(tmp_path / "ids_sm.npy"), want)


def test_corrupt_run_files_are_named(tmp_path):
    x = features()
    train_dec(x, 3, RECIPE, output=tmp_path, seed=0, verbose=0)
    (tmp_path / "metrics.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"report .*metrics.json' is unreadable"):
        train_dec(x, 3, RECIPE, output=tmp_path, seed=0, verbose=0)
    state = json.loads((tmp_path / "checkpoints" / "state.json").read_text())
    (tmp_path / "checkpoints" / "state.json").write_text(json.dumps([state]))
    with pytest.raises(ValueError, match=r"state.json' is not a keras-dec state file"):
        train_dec(x, 3, RECIPE, output=tmp_path, seed=0, verbose=0)


def test_a_non_dec_model_in_place_of_the_dec_checkpoint_is_named(tmp_path):
    import keras
    from conftest import checkpoint_file

    class Crash(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:  # after the first DEC epoch's checkpoint
                raise RuntimeError("crash")

    x = features()
    with pytest.raises(RuntimeError, match="crash"):
        train_dec(x, 3, RECIPE.replace(max_iter=20), output=tmp_path, seed=0, verbose=0,
                  dec_callbacks=[Crash()])
    path = checkpoint_file(tmp_path, "dec")
    stranger = keras.Sequential([keras.Input((5,)), keras.layers.Dense(2)])
    stranger.save(path)
    with pytest.raises(ValueError, match=r"holds a Sequential, not the DEC this run checkpointed"):
        train_dec(x, 3, RECIPE.replace(max_iter=20), output=tmp_path, seed=0, verbose=0)


@needs_tensorflow
def test_predict_on_a_stream_of_the_wrong_shape_is_a_clear_error():
    import tensorflow as tf
    from conftest import small_encoder

    import keras_dec

    dec = keras_dec.DEC(small_encoder(), n_clusters=3)
    dec.set_centers(np.eye(3))
    stream = tf.data.Dataset.from_tensor_slices(np.zeros((8, 5), "float32")).batch(4)
    with pytest.raises(ValueError, match=r"`x` must yield batches of shape \(batch, 6\)"):
        dec.predict(stream)
