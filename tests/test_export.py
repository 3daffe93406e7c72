import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from keras_dec import DEC, build_autoencoder
from keras_dec.export import (
    ParityError,
    check_parity,
    export_for_serving,
    export_saved_model,
    export_tflite,
    load_predictor,
    read_metadata,
)
from keras_dec.export import parity as parity_module


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A DEC model with the paper's architecture on 10 separated 64-D blobs."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    centers = rng.normal(0, 1, (10, 64))
    y = np.repeat(np.arange(10), 60)
    x = np.clip(centers[y] + rng.normal(0, 0.15, (600, 64)), -3, 3).astype("float32")
    autoencoder, encoder = build_autoencoder(64, seed=0)
    autoencoder.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss="mse")
    autoencoder.fit(x, x, batch_size=64, epochs=10, verbose=0)
    dec = DEC(encoder, n_clusters=10, update_interval=5)
    dec.initialize_centers(x, seed=0, n_init=4)
    dec.compile()
    dec.fit(x, batch_size=128, epochs=2, verbose=0)
    root = tmp_path_factory.mktemp("trained")
    dec.save(root / "model.keras")
    return dec, x, root


def test_saved_model_runs_without_keras_dec(trained, tmp_path):
    dec, x, _ = trained
    path = export_saved_model(dec, tmp_path, name="dec")
    assert path == str(tmp_path / "dec" / "1")
    assert os.path.isfile(os.path.join(path, "saved_model.pb"))
    meta = read_metadata(path)
    assert meta["n_clusters"] == 10 and meta["input_shape"] == [64] and meta["alpha"] == 1.0
    assert meta["tensorflow_version"] and meta["keras_dec_version"]
    for batch in (1, 257):
        xb = np.resize(x, (batch, 64))
        np.save(tmp_path / f"x{batch}.npy", xb)
        np.save(tmp_path / f"q{batch}.npy", dec.predict(xb, verbose=0))
    script = textwrap.dedent(f"""
        import sys, numpy as np, tensorflow as tf
        m = tf.saved_model.load({path!r})
        assert set(m.signatures) == {{"predict", "embed", "serving_default"}}, list(m.signatures)
        for batch in (1, 257):
            x = np.load({str(tmp_path)!r} + f"/x{{batch}}.npy")
            want = np.load({str(tmp_path)!r} + f"/q{{batch}}.npy")
            out = m.signatures["predict"](features=tf.constant(x))
            assert out["cluster_id"].dtype == tf.int32
            np.testing.assert_allclose(out["soft_assignments"].numpy(), want, atol=1e-6)
            np.testing.assert_array_equal(out["cluster_id"].numpy(), want.argmax(1))
            d = m.signatures["serving_default"](features=tf.constant(x))
            np.testing.assert_array_equal(d["cluster_id"].numpy(), want.argmax(1))
            assert m.signatures["embed"](features=tf.constant(x))["embedding"].shape == (batch, 10)
        assert not any(name.startswith("keras_dec") for name in sys.modules)
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=300, cwd=tmp_path)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-3000:]


def test_saved_model_cli_show_and_run(trained, tmp_path):
    dec, x, _ = trained
    path = export_saved_model(dec, tmp_path, name="dec")
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    show = subprocess.run([cli, "show", "--dir", path, "--all"], capture_output=True, text=True,
                          timeout=300)
    assert show.returncode == 0, show.stderr[-2000:]
    for text in ("signature_def['predict']", "signature_def['embed']", "cluster_id",
                 "soft_assignments", "features"):
        assert text in show.stdout
    np.save(tmp_path / "in.npy", x[:3])
    run = subprocess.run([cli, "run", "--dir", path, "--tag_set", "serve", "--signature_def",
                          "predict", "--inputs", f"features={tmp_path / 'in.npy'}"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "cluster_id" in run.stdout


def test_versions_increase_and_never_overwrite(trained, tmp_path):
    dec, _, _ = trained
    assert export_saved_model(dec, tmp_path).endswith(os.path.join("dec", "1"))
    assert export_saved_model(dec, tmp_path).endswith(os.path.join("dec", "2"))
    with pytest.raises(FileExistsError, match="Version 2 already exists"):
        export_saved_model(dec, tmp_path, version=2)
    assert export_saved_model(dec, tmp_path, version=7).endswith("7")
    assert sorted(os.listdir(tmp_path / "dec")) == ["1", "2", "7"]


def test_export_killed_halfway_leaves_nothing_partial(trained, tmp_path):
    dec, x, _ = trained
    first = export_saved_model(dec, tmp_path)

    def crash(staging_dir):
        assert os.path.isfile(os.path.join(staging_dir, "saved_model.pb"))  # half way
        raise KeyboardInterrupt("killed")

    with pytest.raises(KeyboardInterrupt):
        export_saved_model(dec, tmp_path, validate=crash)
    assert os.listdir(tmp_path / "dec") == ["1"]
    ids, _ = load_predictor(first).predict(x[:5])
    np.testing.assert_array_equal(ids, dec.predict_clusters(x[:5]))


def test_tflite_parity_and_sizes(trained, tmp_path):
    dec, x, _ = trained
    result = export_for_serving(dec, tmp_path, tflite=("none", "dynamic", "float16", "int8"), x=x)
    report = result["parity"]
    assert report["saved_model"]["max_abs_diff"] <= 1e-5
    assert report["tflite_none"]["agreement"] == 1.0
    assert report["tflite_none"]["max_abs_diff"] <= 1e-5
    assert report["tflite_dynamic"]["agreement"] >= 0.995
    assert report["tflite_float16"]["agreement"] >= 0.995
    assert report["tflite_int8"]["agreement"] >= 0.99
    sizes = result["sizes"]
    assert sizes["tflite_int8"] <= 0.30 * sizes["tflite_none"]
    assert os.path.isfile(os.path.join(result["saved_model"], "assets.extra", "parity.json"))
    # Signature runners from ai_edge_litert, both signatures kept.
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=result["tflite"]["int8"])
    assert set(interpreter.get_signature_list()) == {"predict", "embed"}
    out = interpreter.get_signature_runner("embed")(features=x[:4])
    assert out["embedding"].shape == (4, 10)


def test_failed_parity_publishes_nothing(trained, tmp_path, monkeypatch):
    dec, x, _ = trained
    monkeypatch.setitem(parity_module.MIN_AGREEMENT, "dynamic", 1.01)
    with pytest.raises(ParityError, match=r"tflite_dynamic: agreement 1.0000, .*\(needs agreement >= 1.01\)"):
        export_for_serving(dec, tmp_path, tflite=("none", "dynamic"), x=x[:50])
    # Not even empty folders are left behind.
    assert not (tmp_path / "dec").exists() and not (tmp_path / "tflite").exists()


def test_a_second_export_to_a_locked_base_path_fails_at_once(trained, tmp_path):
    from keras_dec.errors import FolderInUseError
    from keras_dec.utils.folder_lock import exclusive_folder

    dec, x, _ = trained
    with exclusive_folder(tmp_path, "another export"):
        with pytest.raises(FolderInUseError, match="in use by another keras-dec process"):
            export_for_serving(dec, tmp_path, tflite=("none",), x=x[:50])
    assert sorted(os.listdir(tmp_path)) == [".keras-dec.lock"]


def test_check_parity_reports_without_raising(trained, tmp_path):
    dec, x, _ = trained
    path = export_saved_model(dec, tmp_path)
    tfl = export_tflite(path, tmp_path / "m.tflite", "none")
    report = check_parity(dec, x[:20], path, {"none": tfl}, raise_on_failure=False)
    assert report["tflite_none"]["passed"] and report["saved_model"]["passed"]


def test_export_errors(trained, tmp_path):
    dec, x, _ = trained
    with pytest.raises(TypeError, match="`model` must be a keras_dec.DEC. Received: model of type str"):
        export_saved_model("model", tmp_path)
    with pytest.raises(ValueError, match="`name` must be a plain folder name"):
        export_saved_model(dec, tmp_path, name="../x")
    with pytest.raises(ValueError, match=r"`quantization` must be one of .*Received: quantization='int4'"):
        export_tflite(tmp_path, tmp_path / "m.tflite", "int4")
    with pytest.raises(FileNotFoundError, match="No SavedModel found"):
        export_tflite(tmp_path, tmp_path / "m.tflite")
    path = export_saved_model(dec, tmp_path)
    with pytest.raises(ValueError, match="needs `representative_data`"):
        export_tflite(path, tmp_path / "m.tflite", "int8")
    with pytest.raises(ValueError, match="`x` .* is needed for the parity checks"):
        export_for_serving(dec, tmp_path)
    fresh = DEC(build_autoencoder(64, dims=(4,))[1], n_clusters=2)
    with pytest.raises(ValueError, match="cluster centres are not initialised"):
        export_saved_model(fresh, tmp_path)


def test_cli_export_then_predict_with_each_format(trained, tmp_path):
    dec, x, root = trained
    np.save(root / "x.npy", x)
    (root / "metrics.json").write_text(json.dumps({"data_source": str(root / "x.npy")}))
    env = {**os.environ}
    base = tmp_path / "models"
    result = subprocess.run(
        [sys.executable, "-m", "keras_dec.cli", "export", "--model", str(root / "model.keras"),
         "--base-path", str(base), "--name", "dec", "--tflite", "none,int8"],
        capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "SavedModel (TF Serving)" in result.stdout and "MB" in result.stdout
    assert "parity tflite_int8" in result.stdout
    want = dec.predict_clusters(x)
    models = (root / "model.keras", base / "dec" / "1", base / "tflite" / "dec-v1-none.tflite")
    for i, model in enumerate(models):
        out = tmp_path / f"ids{i}.npy"
        r = subprocess.run([sys.executable, "-m", "keras_dec.cli", "predict", "--model", str(model),
                            "--input", str(root / "x.npy"), "--output", str(out)],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-3000:]
        np.testing.assert_array_equal(np.load(out), want)
        assert np.load(tmp_path / f"ids{i}_q.npy").shape == (600, 10)


def test_cli_predict_errors(trained, tmp_path):
    _, _, root = trained
    np.save(tmp_path / "bad.npy", np.zeros((3, 5), "float32"))
    r = subprocess.run([sys.executable, "-m", "keras_dec.cli", "predict", "--model",
                        str(root / "model.keras"), "--input", str(tmp_path / "bad.npy")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "`input` must have per-sample shape (64,)" in r.stderr
    r = subprocess.run([sys.executable, "-m", "keras_dec.cli", "predict", "--model",
                        str(tmp_path / "none.tflite"), "--input", str(tmp_path / "bad.npy")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "Model not found" in r.stderr
