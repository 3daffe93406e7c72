"""One model on every Keras backend: same numbers, no TensorFlow needed, exports from any.

Keras fixes its backend once per process, so each backend trains in a
subprocess (`tests/backend_worker.py`) from the same NumPy-seeded weights
and sample order. What is compared: the weights after pretraining and after
DEC, the centres, Q, the k-means and final labels, and the step counts.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import BACKEND, tensorflow_only

WORKER = os.path.join(os.path.dirname(__file__), "backend_worker.py")
BACKENDS = ("tensorflow", "jax", "torch")

# Float32 sums in a different order (oneDNN, XLA:CPU and ATen kernels each
# reduce their own way) differ by a few ulp, ~1e-7 relative, per op. Over
# the worker's 21 pretraining and 28 DEC steps the largest difference
# measured was 1.7e-7 relative (2026-11-30), so 1e-5 leaves two orders of
# magnitude for other CPUs; the hard labels must be identical.
RTOL, ATOL = 1e-5, 1e-6


def _installed(backend):
    import importlib.util

    return importlib.util.find_spec(backend) is not None


def _train(backend, out, no_tensorflow=False):
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    args = [sys.executable, WORKER, str(out)] + (["--no-tensorflow"] if no_tensorflow else [])
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(np.load(os.path.join(out, "result.npz")))


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    missing = [b for b in BACKENDS if not _installed(b)]
    if missing:
        pytest.skip(f"backends not installed: {missing}")
    out = {}
    for backend in BACKENDS:
        folder = tmp_path_factory.mktemp(backend)
        # JAX and PyTorch train with TensorFlow made unimportable.
        out[backend] = _train(backend, folder, no_tensorflow=backend != "tensorflow")
        out[backend]["folder"] = folder
    return out


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_same_weights_and_assignments_as_tensorflow(results, backend):
    want, got = results["tensorflow"], results[backend]
    assert not got["tensorflow_imported"]
    for key in want:
        if key.startswith(("pretrained_", "encoder_")) or key in ("centers", "q", "loss"):
            np.testing.assert_allclose(got[key], want[key], rtol=RTOL, atol=ATOL, err_msg=key)
    for key in ("initial_labels", "labels", "steps", "refreshes"):
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)
    assert int(want["steps"]) == 28 and int(want["refreshes"]) == 6  # steps 0, 5, ..., 25


@tensorflow_only
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_keras_file_from_another_backend_exports_in_tensorflow(results, backend, tmp_path):
    from keras_dec import load_model
    from keras_dec.export import export_for_serving

    trained = results[backend]
    model = load_model(os.path.join(trained["folder"], "model.keras"))
    x = trained["x"]
    np.testing.assert_allclose(model.predict(x, verbose=0), trained["q"], atol=1e-6)
    np.testing.assert_array_equal(model.predict_clusters(x), trained["labels"])
    # The existing parity checks: SavedModel and float32 TFLite against the loaded model.
    exported = export_for_serving(model, tmp_path, tflite=("none",), x=x)
    parity = exported["parity"]
    assert set(parity) == {"saved_model", "tflite_none"}
    assert all(r["passed"] and r["agreement"] == 1.0 for r in parity.values()), parity


@pytest.mark.skipif(BACKEND != "tensorflow", reason="runs the other backends itself")
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_cli_trains_without_tensorflow(backend, tmp_path):
    if not _installed(backend):
        pytest.skip(f"{backend} is not installed")
    code = (
        "import sys; sys.modules['tensorflow'] = None; "
        "from keras_dec.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    args = ["train", "--dataset", "digits", "--max-samples", "300", "--dims", "32,10",
            "--pretrain-epochs", "2", "--max-iter", "30", "--seed", "0", "--quiet",
            "--output", str(tmp_path / "run")]
    env = {**os.environ, "KERAS_BACKEND": backend}
    result = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "DEC" in result.stdout and "Traceback" not in result.stderr
    assert os.path.isfile(tmp_path / "run" / "model.keras")
