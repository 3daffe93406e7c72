import json
import os
import subprocess
import sys

import numpy as np
import pytest

from keras_dec.cli import build_parser, main

TINY = ["--dims", "16,4", "--pretrain-epochs", "2", "--max-iter", "10", "--quiet", "--seed", "0"]


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "keras_dec.cli", *args], capture_output=True, text=True, timeout=300
    )


def test_train_digits_writes_model_and_metrics(tmp_path):
    out = tmp_path / "run"
    result = run_cli("train", "--dataset", "digits", "--n-clusters", "10", "--output", str(out),
                     "--baseline", *TINY)
    assert result.returncode == 0, result.stderr
    assert "DEC" in result.stdout and "ACC" in result.stdout
    report = json.loads((out / "metrics.json").read_text())
    assert set(report["seconds"]) == {"kmeans_raw", "pretrain", "kmeans_init", "dec", "evaluate",
                                     "total"}
    assert report["dec_iterations"] == 10 and report["converged"] is False
    assert {"acc", "nmi", "ari"} <= set(report["dec"]) and "autoencoder_kmeans" in report
    assert (out / "model.keras").is_file() and (out / "history.csv").is_file()
    assert not [p for p in os.listdir(out) if ".tmp" in p]
    # No TensorFlow start-up banner or CUDA probing noise on a CPU-only machine.
    assert "cuInit" not in result.stderr and "cuda" not in result.stderr.lower(), result.stderr
    assert "oneDNN" not in result.stderr and "I0000" not in result.stderr, result.stderr


def test_seed_makes_runs_repeatable(tmp_path):
    reports = []
    for name in ("a", "b"):
        main(["train", "--output", str(tmp_path / name), *TINY])
        reports.append(json.loads((tmp_path / name / "metrics.json").read_text()))
    assert reports[0]["dec"] == reports[1]["dec"]


def test_own_npy_features(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "f.npy", rng.random((60, 5)).astype("float32"))
    code = main(["train", "--data", str(tmp_path / "f.npy"), "--n-clusters", "3",
                 "--output", str(tmp_path / "out"), *TINY])
    assert code == 0
    report = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert report["n_features"] == 5 and "dec" not in report


def test_help_lists_every_flag_with_its_default():
    text = build_parser()._subparsers._group_actions[0].choices["train"].format_help()
    for flag in ("--dataset", "--data", "--n-clusters", "--output", "--seed", "--update-interval",
                 "--tol", "--pretrain-epochs", "--max-iter", "--lr", "--alpha", "--dims"):
        assert flag in text
    assert "default: digits" in text and "recipe: 0.001" in text


@pytest.mark.parametrize(
    "args, message",
    [
        (["--data", "{tmp}/missing.npy"], "Data file not found. Received: path="),
        (["--data", "{tmp}/nan.npy"], "`x` contains 1 NaN or Inf value(s)"),
        (["--data", "{tmp}/small.npy"], "`x` must have at least 10 samples"),
        (["--data", "{tmp}/strings.npy"], "must hold numeric features"),
        (["--data", "{tmp}/fake.npy"], "is not a NumPy .npy file: no NPY magic number"),
        (["--dataset", "fashion_mnist", "--data-dir", "{tmp}/nowhere"],
         "Fashion-MNIST folder not found"),
        (["--tol", "2"], "`tol` must be a number in [0, 1]. Received: tol=2.0"),
        (["--alpha", "0"], "`alpha` must be a finite number > 0"),
    ],
)
def test_bad_input_gives_one_line_error_and_writes_nothing(tmp_path, args, message):
    x = np.random.default_rng(0).random((20, 4)).astype("float32")
    x_nan = x.copy()
    x_nan[1, 1] = np.nan
    np.save(tmp_path / "nan.npy", x_nan)
    np.save(tmp_path / "small.npy", x[:5])
    np.save(tmp_path / "strings.npy", np.array([["a"] * 4] * 20))
    (tmp_path / "fake.npy").write_text("not numpy")
    out = tmp_path / "out"
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = run_cli("train", *args, "--output", str(out), *TINY)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("keras-dec: error: "), result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_bad_flag_value_is_an_argparse_error():
    result = run_cli("train", "--n-clusters", "zero")
    assert result.returncode == 2 and "expected an integer" in result.stderr
