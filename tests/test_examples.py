"""The examples run as written (tiny settings)."""

import gzip
import subprocess
import sys
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(script, *args):
    result = subprocess.run([sys.executable, str(EXAMPLES / script), *args],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_quickstart_digits():
    out = run("quickstart_digits.py", "--pretrain-epochs", "2", "--epochs", "1")
    assert "DEC:" in out and "'acc'" in out


def test_fashion_mnist_conv(tmp_path):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 60), ("t10k", 20)):
        images = rng.integers(0, 256, (n, 28, 28)).astype("u1")
        labels = rng.integers(0, 10, n).astype("u1")
        for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
            header = bytes([0, 0, 8, arr.ndim]) + np.array(arr.shape, ">u4").tobytes()
            with gzip.open(tmp_path / f"{prefix}-{kind}-ubyte.gz", "wb") as f:
                f.write(header + arr.tobytes())
    out = run("fashion_mnist_conv.py", "--data-dir", str(tmp_path), "--pretrain-epochs", "1",
              "--max-iter", "2", "--augment", "all")
    assert "conv autoencoder + k-means:" in out and "DEC:" in out


def test_cluster_own_features(tmp_path):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, (40, 5)), rng.normal(6, 1, (40, 5))])
    np.save(tmp_path / "f.npy", x)
    out = run("cluster_own_features.py", str(tmp_path / "f.npy"), "--n-clusters", "2",
              "--out", str(tmp_path / "labels.npy"), "--pretrain-epochs", "2", "--max-iter", "5")
    labels = np.load(tmp_path / "labels.npy")
    assert labels.shape == (80,) and "saved" in out


def test_several_devices():
    out = run("several_devices.py", "--pretrain-epochs", "1", "--epochs", "1")
    assert "on 2 devices: 8 DEC steps" in out
