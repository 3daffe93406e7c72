"""`export` and `predict` killed at seeded points: the next plain run succeeds, and what is
published is complete and consistent (issue 26).

Each kill ends the process at its k-th file-system call with `os._exit`, as
SIGKILL would (no cleanup runs): `tests/kill_hook.py`.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import tensorflow_only

from keras_dec.cli import main

pytestmark = tensorflow_only  # export and serving are TensorFlow's
HOOK = os.path.join(os.path.dirname(__file__), "kill_hook.py")
MODES = ("none", "int8")


class Commands:
    """`keras-dec` commands run by the fork server in `kill_hook.py`."""

    def __init__(self, folder):
        self.log = folder / "command.log"
        self.server = subprocess.Popen([sys.executable, HOOK], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, text=True)

    def run(self, argv, kill_at=0):
        """`(exit code, file events)` of `keras-dec ARGV`, killed at event `kill_at` (0: never)."""
        request = {"kill_at": int(kill_at), "argv": list(argv), "log": str(self.log)}
        self.server.stdin.write(json.dumps(request) + "\n")
        self.server.stdin.flush()
        answer = json.loads(self.server.stdout.readline())
        return answer["code"], answer["events"]

    def output(self):
        return self.log.read_text()[-2000:]

    def close(self):
        self.server.stdin.close()
        self.server.wait(timeout=60)


@pytest.fixture
def commands(tmp_path):
    server = Commands(tmp_path)
    yield server
    server.close()


def kill_points(n_events, count, seed):
    """`count` distinct seeded events in 1..n_events, in order."""
    rng = np.random.default_rng(seed)
    return sorted(rng.choice(np.arange(1, n_events + 1), min(count, n_events), replace=False))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A small trained run on separated blobs (int8 parity holds for it)."""
    root = tmp_path_factory.mktemp("kill")
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 60)
    x = (rng.normal(0, 1, (3, 8))[y] * 3 + rng.normal(0, 0.3, (180, 8))).astype("float32")
    np.save(root / "x.npy", x)
    assert main(["train", "--data", str(root / "x.npy"), "--n-clusters", "3", "--output",
                 str(root / "run"), "--dims", "16,3", "--pretrain-epochs", "20",
                 "--pretrain-lr", "0.1", "--max-iter", "20", "--seed", "0", "--quiet"]) == 0
    return root


def check_published(base):
    """Every version has its TFLite files and manifest and the reverse; nothing staged."""
    assert not (base / ".keras-dec-export.json").exists()
    versions = sorted(int(v) for v in os.listdir(base / "dec") if v.isdigit())
    for v in versions:
        extra = base / "dec" / str(v) / "assets.extra"
        assert (base / "dec" / str(v) / "saved_model.pb").is_file()
        assert json.loads((extra / "parity.json").read_text())
    want = {f"dec-v{v}-{m}.tflite" for v in versions for m in MODES}
    want |= {f"dec-v{v}.json" for v in versions}
    assert set(os.listdir(base / "tflite")) == want
    assert not [n for n in os.listdir(base / "dec") if n.startswith(".tmp")]
    for v in versions:
        manifest = json.loads((base / "tflite" / f"dec-v{v}.json").read_text())
        assert manifest["saved_model"] == os.path.join("dec", str(v))
    return versions


def test_export_killed_at_ten_points_publishes_all_or_nothing(run_dir, tmp_path, commands):
    base = tmp_path / "models"
    command = ["export", "--model", str(run_dir / "run" / "model.keras"), "--base-path",
               str(base), "--tflite", ",".join(MODES)]
    code, n_events = commands.run(command)  # uninterrupted, counting its file events
    assert code == 0, commands.output()
    assert check_published(base) == [1]
    published = 1
    for k in kill_points(n_events, 10, seed=26):
        code, _ = commands.run(command, kill_at=k)
        assert code == 137, (k, commands.output())
        code, _ = commands.run(command)  # the next plain run
        assert code == 0, (k, commands.output())
        versions = check_published(base)
        # The killed run published its version whole, or nothing; the rerun the next one.
        assert versions == list(range(1, len(versions) + 1)), (k, versions)
        assert published < versions[-1] <= published + 2, (k, versions)
        published = versions[-1]


def predicted(out):
    """The ids and their Q, checked against each other; None without an ids file."""
    ids_path, q_path = out / "ids.npy", out / "ids_q.npy"
    if not ids_path.exists():
        return None
    ids, q = np.load(ids_path), np.load(q_path)  # an ids file means its Q is complete
    np.testing.assert_array_equal(q.argmax(1), ids)
    return ids


def test_predict_killed_at_ten_points_never_leaves_ids_without_their_q(run_dir, tmp_path,
                                                                       commands):
    out = tmp_path / "out"
    out.mkdir()
    plain = ["predict", "--model", str(run_dir / "run" / "model.keras"), "--input",
             str(run_dir / "x.npy"), "--output", str(out / "ids.npy")]
    code, n_events = commands.run(plain)
    assert code == 0, commands.output()
    want = predicted(out)
    assert want is not None and len(want) == 180
    points = kill_points(n_events, 10, seed=26)
    points = [*points, *points][:10]  # fewer events than ten: each one twice
    for i, k in enumerate(points):
        # Killed over an earlier complete output (--overwrite), or over a bare folder.
        if i % 2:
            for name in os.listdir(out):
                os.remove(out / name)
        code, _ = commands.run([*plain, "--overwrite"] if not i % 2 else plain, kill_at=k)
        assert code == 137, (k, commands.output())
        got = predicted(out)
        assert got is None or np.array_equal(got, want), k
        # The next plain run: without --overwrite unless a complete output stands.
        code, _ = commands.run(plain if got is None else [*plain, "--overwrite"])
        assert code == 0, (k, commands.output())
        np.testing.assert_array_equal(predicted(out), want)
        assert sorted(os.listdir(out)) == ["ids.npy", "ids_q.npy"], (k, os.listdir(out))
