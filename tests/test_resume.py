"""A training run killed with SIGKILL resumes and ends exactly like an uninterrupted one."""

import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
from conftest import tensorflow_only

from keras_dec.datasets import load_digits

ARGS = ["train", "--dataset", "digits", "--seed", "3", "--quiet", "--dims", "64,64,10",
        "--pretrain-epochs", "12", "--pretrain-lr", "0.1", "--update-interval", "7",
        "--tol", "0", "--max-iter", "120"]


def cli(output, *extra):
    return [sys.executable, "-m", "keras_dec.cli", *ARGS, "--output", str(output), *extra]


def state(output):
    try:
        with open(os.path.join(output, "checkpoints", "state.json")) as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError):
        return None


def labels_of(output):
    model = keras.saving.load_model(os.path.join(output, "model.keras"))
    return model.predict_clusters(load_digits()[0]), model


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("full")
    result = subprocess.run(cli(out), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def kill_when(output, predicate, timeout=300):
    process = subprocess.Popen(cli(output), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            s = state(output)
            if s is not None and predicate(s):
                process.send_signal(signal.SIGKILL)
                process.wait()
                return s
            if process.poll() is not None:
                pytest.fail("the run finished before it could be killed: " + process.stderr.read().decode()[-2000:])
            time.sleep(0.05)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    pytest.fail("the run never reached the kill point")


@pytest.mark.parametrize(
    "where, predicate",
    [
        ("pretraining", lambda s: s["stage"] == "pretrain" and 3 <= s["epoch"] < 12),
        ("dec", lambda s: s["stage"] == "dec" and s["epoch"] >= 3),
    ],
)
def test_killed_run_resumes_to_the_same_assignments(uninterrupted, tmp_path, where, predicate):
    out = tmp_path / "run"
    killed_at = kill_when(out, predicate)
    assert not (out / "model.keras").exists()
    # Re-running the same command continues from the checkpoint.
    result = subprocess.run(cli(out, "--resume"), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    final = state(out)
    assert final["stage"] == "done", (killed_at, final)
    want, want_model = labels_of(uninterrupted)
    got, got_model = labels_of(out)
    np.testing.assert_array_equal(got, want)
    for a, b in zip(got_model.encoder.get_weights(), want_model.encoder.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not [p for p in os.listdir(out) if ".tmp" in p]
    assert not [p for p in os.listdir(out / "checkpoints") if ".tmp" in p]


def test_finished_run_is_not_redone(uninterrupted):
    before = os.path.getmtime(uninterrupted / "model.keras")
    result = subprocess.run(cli(uninterrupted), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0 and "already finished" in result.stdout
    assert os.path.getmtime(uninterrupted / "model.keras") == before


def test_checkpoint_of_another_run_is_refused(uninterrupted):
    result = subprocess.run(cli(uninterrupted)[:-2] + ["--seed", "4", "--output", str(uninterrupted)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 2
    assert "holds checkpoints of a different run" in result.stderr


def progress(s):
    """A checkpoint's place in the run: (stages finished, epoch within the stage)."""
    return (-1, 0) if s is None else (len(s["finished"]), s["epoch"])


@tensorflow_only  # the two kill points above run on every backend; this loop once, for time
def test_killed_at_ten_random_points_resumes_to_the_same_assignments(uninterrupted, tmp_path):
    """SIGKILL at seeded random moments all through one run (mid-epoch, mid-save,
    between the model file and the state), resuming after each: the end is the same.

    The kill points are drawn as checkpoints (five pretraining epochs of 12, five DEC
    epochs of 15), then a random moment of up to a tenth of a second after each is
    reached, so a fast machine and a slow one both kill ten times in both stages."""
    out = tmp_path / "run"
    rng = np.random.default_rng(0)
    targets = [(0, int(e)) for e in np.sort(rng.choice(np.arange(1, 12), 5, replace=False))]
    targets += [(2, int(e)) for e in np.sort(rng.choice(np.arange(1, 13), 5, replace=False))]
    kills, points = 0, []
    for target in targets:
        before = state(out)
        process = subprocess.Popen(cli(out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.time() + 300
            # Wait until this process has written a checkpoint at or past the target.
            while process.poll() is None and time.time() < deadline:
                now = state(out)
                if now != before and progress(now) >= target:
                    break
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.1))
            if process.poll() is not None:
                assert process.returncode == 0, process.stderr.read().decode()[-3000:]
                break
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
            points.append((state(out) or {}).get("stage"))
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    result = subprocess.run(cli(out), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert kills == 10, f"the run finished after {kills} kills; make it longer"
    assert {"pretrain", "dec"} <= set(points), points
    want, want_model = labels_of(uninterrupted)
    got, got_model = labels_of(out)
    np.testing.assert_array_equal(got, want)
    for a, b in zip(got_model.encoder.get_weights(), want_model.encoder.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert sorted(os.listdir(out / "checkpoints"))[-1] == "state.json"
    assert not [p for p in os.listdir(out / "checkpoints") if ".tmp" in p]
