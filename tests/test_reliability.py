"""Numerical safety, atomic artifacts, safe loading and bad input everywhere."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from conftest import checkpoint_file
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import keras_dec
import keras_dec.datasets
from keras_dec import ClusteringLayer, Recipe, train_dec
from keras_dec.pipeline import NonFiniteLossError
from keras_dec.utils import atomic


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    n=st.integers(1, 6),
    k=st.integers(2, 5),
    d=st.integers(1, 4),
    alpha=st.floats(1e-6, 1e3),
    magnitude=st.sampled_from([1e-30, 1e-3, 1.0, 1e3, 1e15, 1e30]),
)
def test_soft_assignments_always_finite_and_normalised(data, n, k, d, alpha, magnitude):
    unit = st.floats(-1, 1, allow_nan=False, width=32)
    z = data.draw(hnp.arrays("float32", (n, d), elements=unit)) * np.float32(magnitude)
    mu = data.draw(hnp.arrays("float32", (k, d), elements=unit)) * np.float32(magnitude)
    q = keras.ops.convert_to_numpy(ClusteringLayer(k, alpha=alpha, initial_centers=mu)(z))
    assert np.all(np.isfinite(q))
    np.testing.assert_allclose(q.sum(axis=1), 1.0, atol=1e-5)


def test_interrupted_model_write_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "model.keras"
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    atomic.save_model(model, path)
    before = path.read_bytes()

    def half_written(self, filepath, *args, **kwargs):
        with open(filepath, "wb") as f:
            f.write(b"PK\x03\x04 partial")
        raise OSError("No space left on device")

    monkeypatch.setattr(keras.Model, "save", half_written)
    with pytest.raises(OSError, match="No space left"):
        atomic.save_model(model, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.keras"]
    monkeypatch.undo()
    assert keras_dec.load_model(path).output_shape == (None, 2)


def test_interrupted_json_write_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "metrics.json"
    atomic.write_json(path, {"acc": 0.9})
    monkeypatch.setattr(json, "dump", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        atomic.write_json(path, {"acc": 0.1})
    assert json.loads(path.read_text()) == {"acc": 0.9}
    assert os.listdir(tmp_path) == ["metrics.json"]


def test_truncated_and_foreign_model_files_name_the_file(tmp_path):
    inputs = keras.Input((3,))
    good = tmp_path / "good.keras"
    keras.Model(inputs, keras.layers.Dense(2)(inputs)).save(good)
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(ValueError, match=r"truncated.keras' is not a valid .keras file"):
        keras_dec.load_model(truncated)
    text = tmp_path / "text.keras"
    text.write_text("hello")
    with pytest.raises(ValueError, match=r"text.keras' is not a valid .keras file"):
        keras_dec.load_model(text)
    with pytest.raises(FileNotFoundError, match="Model file not found"):
        keras_dec.load_model(tmp_path / "missing.keras")


def test_lambda_layer_is_refused(tmp_path):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2)(inputs))
    path = tmp_path / "lambda.keras"
    model.save(path)
    with pytest.raises(ValueError, match="holds a Lambda layer .* safe mode"):
        keras_dec.load_model(path)


def test_nan_loss_stops_with_a_message_naming_the_step(tmp_path):
    x = np.random.default_rng(0).random((64, 8)).astype("float32") * 100
    recipe = Recipe(dims=(8, 2), pretrain_epochs=5, pretrain_learning_rate=1e6, max_iter=5)
    with pytest.raises(NonFiniteLossError, match=r"The pretraining loss became (nan|inf) in epoch \d+ \(by step \d+\)"):
        train_dec(x, 2, recipe, output=tmp_path / "run", seed=0, verbose=0, checkpoint_every=1)
    state = json.loads((tmp_path / "run" / "checkpoints" / "state.json").read_text()) \
        if (tmp_path / "run" / "checkpoints" / "state.json").exists() else None
    if state is not None:  # the last good checkpoint stays loadable
        keras_dec.load_model(checkpoint_file(tmp_path / "run", "autoencoder"))
    assert not (tmp_path / "run" / "model.keras").exists()


TINY = Recipe(dims=(8, 2), pretrain_epochs=1, max_iter=2)

BAD_ARRAYS = {
    "strings": (np.full((20, 4), "a"), TypeError, "`x` must hold numbers"),
    "objects": (np.array([[{"a": 1}] * 4] * 20, dtype=object), TypeError, "`x` must hold numbers"),
    "one_dimensional": (np.zeros(20), ValueError, "at least 2 dimensions"),
    "nan": (np.where(np.eye(20, 4) > 0, np.nan, 0.5), ValueError, "NaN or Inf"),
    "inf": (np.where(np.eye(20, 4) > 0, np.inf, 0.5), ValueError, "NaN or Inf"),
    "empty": (np.zeros((0, 4)), ValueError, "`x` is empty"),
    "one_row_repeated": (np.ones((20, 4)), ValueError, "fewer distinct rows than n_clusters=3"),
    "too_few_distinct": (np.repeat(np.eye(2, 4), 10, axis=0), ValueError,
                         "fewer distinct rows than n_clusters=3"),
    "fewer_samples_than_clusters": (np.random.rand(2, 4), ValueError, "at least 3 samples"),
    "beyond_float32": (np.where(np.eye(20, 4) > 0, 1e39, 0.5), ValueError,
                       r"holds 4 finite value\(s\) beyond float32's range"),
    "unscaled_integers": (np.random.randint(0, 256, (20, 4)), ValueError,
                          "holds integers from .* Scale them first"),
    "negative_integers": (np.random.default_rng(0).integers(-5, 2, (20, 4)), ValueError,
                          "holds integers from -5 to 1: unscaled"),
    "negative_integers_only": (-np.arange(80).reshape(20, 4), ValueError,
                               "holds integers from -79 to 0: unscaled"),
}


@pytest.mark.parametrize("case", sorted(BAD_ARRAYS))
def test_bad_input_to_the_python_api_writes_nothing(case, tmp_path):
    x, error, match = BAD_ARRAYS[case]
    with pytest.raises(error, match=match):
        train_dec(x, 3, TINY, output=tmp_path / "out", verbose=0)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("case", sorted(set(BAD_ARRAYS) - {"objects"}))
def test_bad_input_to_the_cli_is_one_line_and_writes_nothing(case, tmp_path):
    x, _, match = BAD_ARRAYS[case]
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "keras_dec.cli", "train", "--data", str(tmp_path / "x.npy"),
         "--n-clusters", "3", "--output", str(out), "--dims", "8,2", "--pretrain-epochs", "1",
         "--max-iter", "2", "--quiet"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("keras-dec: error: "), result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_pickled_objects_are_never_loaded_by_the_cli(tmp_path):
    np.save(tmp_path / "obj.npy", BAD_ARRAYS["objects"][0], allow_pickle=True)
    result = subprocess.run(
        [sys.executable, "-m", "keras_dec.cli", "train", "--data", str(tmp_path / "obj.npy"),
         "--output", str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "holds Python objects" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "name, content, match",
    [
        ("zip.npy", b"PK\x03\x04 not numpy", "is not a NumPy .npy file: no NPY magic"),
        ("csv.npy", b"1.0,2.0\n3.0,4.0\n", r"no NPY magic number at its start \(found bytes"),
        ("gzip.npy", b"\x1f\x8b\x08\x00 compressed", r"no NPY magic number .*found gzip data"),
        ("numpy.csv", np.lib.format.magic(1, 0) + b"\x00" * 10, "is not a valid .csv file"),
        ("text.npz", b"a,b\n1,2\n", "is not a valid .npz file"),
    ],
)
def test_files_that_are_not_what_their_extension_says(tmp_path, name, content, match):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ValueError, match=match):
        keras_dec.datasets.load_array(tmp_path / name)


def test_nan_loss_in_plain_fit_names_the_step():
    x = np.random.default_rng(0).random((40, 6)).astype("float32")
    inputs = keras.Input((6,))
    encoder = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    dec = keras_dec.DEC(encoder, n_clusters=2, update_interval=1000)
    dec.set_centers([[0.0, 0.0], [1.0, 1.0]])
    # The soft assignment is robust to huge weights, so break the encoder outright.
    kernel, bias = encoder.layers[-1].get_weights()
    encoder.layers[-1].set_weights([np.full_like(kernel, np.inf), bias])
    dec.compile(jit_compile=False)
    # The first refresh finds Q non-finite before any step runs.
    with pytest.raises(FloatingPointError, match=r"The embeddings or soft assignments became NaN or Inf at DEC step 0"):
        dec.fit(x, batch_size=8, epochs=20, verbose=0)


def test_failed_parity_is_a_one_line_cli_error(tmp_path, monkeypatch, capsys):
    from keras_dec import cli
    from keras_dec.export import parity

    x = np.random.default_rng(0).random((30, 4)).astype("float32")
    np.save(tmp_path / "x.npy", x)
    inputs = keras.Input((4,))
    dec = keras_dec.DEC(keras.Model(inputs, keras.layers.Dense(2)(inputs)), n_clusters=2)
    dec.initialize_centers(x, seed=0, n_init=1)
    dec.save(tmp_path / "model.keras")
    monkeypatch.setitem(parity.MIN_AGREEMENT, "dynamic", 1.01)
    code = cli.main(["export", "--model", str(tmp_path / "model.keras"), "--data",
                     str(tmp_path / "x.npy"), "--base-path", str(tmp_path / "models"),
                     "--tflite", "dynamic"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("keras-dec: error: Exported model(s) failed the parity")
    assert not (tmp_path / "models" / "dec").exists() or not os.listdir(tmp_path / "models" / "dec")


def test_a_rerun_removes_what_a_killed_write_left_and_nothing_else(tmp_path):
    # SIGKILL during an atomic write leaves its temporary file (see
    # test_resume.py); the next run must clean it up, and only it.
    x = np.random.default_rng(0).random((20, 4)).astype("float32")
    out = tmp_path / "run"
    (out / "checkpoints").mkdir(parents=True)
    leftovers = [out / "checkpoints" / ".autoencoder.keras.s8w2uk30.tmp.keras",
                 out / "checkpoints" / ".state.json.ab12cd.tmp", out / ".metrics.json.x9.tmp"]
    kept = [out / "notes.tmp", out / ".hidden", out / "checkpoints" / "mine.tmp.keras"]
    for path in leftovers + kept:
        path.write_text("partial")
    train_dec(x, 3, TINY, output=out, seed=0, verbose=0)
    assert [p.name for p in leftovers if p.exists()] == []
    assert [p.name for p in kept if p.exists()] == [p.name for p in kept]
    assert (out / "model.keras").exists()
