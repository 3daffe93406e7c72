"""Batch assignment on Apache Beam's DirectRunner, two worker processes."""

import glob
import json
import os

import keras
import numpy as np
import pytest
from conftest import tensorflow_only

from keras_dec import DEC
from keras_dec.cli import main
from keras_dec.datasets.shards import write_shard
from keras_dec.export import export_saved_model

beam = pytest.importorskip("apache_beam")
pq = pytest.importorskip("pyarrow.parquet")
from keras_dec.beam import assign_clusters  # noqa: E402

pytestmark = tensorflow_only
SIZES = {"part-0.npy": 700, "part-1.csv": 333, "part-2.tfrecord": 251, "part-3.npy": 0}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A DEC model over a random encoder (4 features, 3 clusters), exported, and 4 shards."""
    root = tmp_path_factory.mktemp("beam")
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    encoder = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                                keras.layers.Dense(3)])
    dec = DEC(encoder, n_clusters=3)
    x = rng.random((sum(SIZES.values()), 4)).astype("float32")
    dec.set_centers(np.asarray(encoder.predict(x[:3], verbose=0)))
    model = export_saved_model(dec, root / "export")
    folder = root / "shards"
    folder.mkdir()
    shards, start = {}, 0
    for name, n in SIZES.items():
        write_shard(folder / name, x[start:start + n])
        shards[str(folder / name)] = x[start:start + n]
        start += n
    return dec, model, folder, shards


def _read_parquet(folder):
    import pyarrow as pa

    return pa.concat_tables([pq.read_table(f) for f in sorted(glob.glob(f"{folder}/*.parquet"))])


def test_every_row_comes_out_once_with_the_keras_models_cluster(exported, tmp_path):
    dec, model, shard_dir, shards = exported
    summary = assign_clusters(model, shard_dir, tmp_path / "out", embedding=True, num_workers=2)
    table = _read_parquet(tmp_path / "out").to_pydict()
    n = sum(SIZES.values())
    assert summary["rows"] == n == len(table["row"]) and summary["shards"] == len(SIZES)
    keys = list(zip(table["shard"], table["row"], strict=True))
    assert len(set(keys)) == n
    assert set(keys) == {(s, i) for s, x in shards.items() for i in range(len(x))}
    order = {k: i for i, k in enumerate(keys)}
    for shard, x in shards.items():
        if not len(x):
            continue
        at = [order[(shard, i)] for i in range(len(x))]
        q = np.asarray(dec.predict(x, verbose=0))
        np.testing.assert_array_equal(np.asarray(table["cluster_id"])[at], q.argmax(1))
        np.testing.assert_allclose(np.asarray(table["confidence"])[at], q.max(1), atol=1e-6)
        np.testing.assert_allclose(np.asarray(table["embedding"])[at],
                                   dec.encoder.predict(x, verbose=0), atol=1e-6)
    written = json.loads((tmp_path / "out" / "_SUCCESS").read_text())
    assert written["rows"] == n and written["format"] == "parquet"


def test_cli_writes_csv(exported, tmp_path, capsys):
    dec, model, shard_dir, shards = exported
    out = tmp_path / "csv"
    assert main(["assign", "--model", model, "--input", f"{shard_dir}/*.npy", "--output",
                 str(out), "--format", "csv", "--num-workers", "2", "--",
                 "--direct_running_mode=multi_threading"]) == 0
    assert "Assigned 700 rows from 2 shards" in capsys.readouterr().out
    lines = [line for f in sorted(glob.glob(f"{out}/*.csv")) for line in open(f).read().splitlines()]
    header, rows = lines[0], [line.split(",") for line in lines if line != lines[0]]
    assert header == "shard,row,cluster_id,confidence"
    assert len(rows) == 700 and {r[0] for r in rows} == {str(shard_dir / "part-0.npy")}
    ids = np.zeros(700, int)
    for r in rows:
        ids[int(r[1])] = int(r[2])
    q = np.asarray(dec.predict(shards[str(shard_dir / "part-0.npy")], verbose=0))
    np.testing.assert_array_equal(ids, q.argmax(1))


def test_a_corrupt_shard_fails_the_job_by_name_and_leaves_no_output(exported, tmp_path):
    _, model, shard_dir, _ = exported
    bad_dir = tmp_path / "shards"
    bad_dir.mkdir()
    for name in SIZES:
        (bad_dir / name).write_bytes((shard_dir / name).read_bytes())
    data = (bad_dir / "part-0.npy").read_bytes()
    (bad_dir / "part-0.npy").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=f"Shard '{bad_dir / 'part-0.npy'}' could not be read"):
        assign_clusters(model, bad_dir, tmp_path / "out", num_workers=2)
    assert os.listdir(tmp_path / "out") == []


def test_a_shard_with_the_wrong_feature_count_is_named(exported, tmp_path):
    _, model, _, _ = exported
    write_shard(tmp_path / "wide.npy", np.ones((5, 6)))
    with pytest.raises(ValueError, match=r"wide.npy'` must have per-sample shape \(4,\).*\(5, 6\)"):
        assign_clusters(model, tmp_path / "wide.npy", tmp_path / "out", num_workers=2,
                        pipeline_args=["--direct_running_mode=multi_threading"])
    assert not os.path.exists(tmp_path / "out" / "_SUCCESS")


def test_assign_errors(exported, tmp_path):
    _, model, shard_dir, _ = exported
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "old.csv").write_text("x")
    with pytest.raises(ValueError, match="`output` must be a new or empty folder"):
        assign_clusters(model, shard_dir, tmp_path / "full")
    with pytest.raises(FileNotFoundError, match="must be a SavedModel version folder"):
        assign_clusters(tmp_path, shard_dir, tmp_path / "o")
    with pytest.raises(FileNotFoundError, match="No shard files found"):
        assign_clusters(model, tmp_path / "none-*.npy", tmp_path / "o")
    with pytest.raises(ValueError, match="`output_format` must be 'parquet' or 'csv'"):
        assign_clusters(model, shard_dir, tmp_path / "o", output_format="json")
    with pytest.raises(ValueError, match="`num_workers` must be an integer >= 1"):
        assign_clusters(model, shard_dir, tmp_path / "o", num_workers=0)
    assert not os.path.exists(tmp_path / "o")
