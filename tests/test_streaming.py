"""Training from shards larger than memory: `ShardStream` and `train_dec` on it."""

import json
import os

import keras
import numpy as np
import pytest
from conftest import needs_tensorflow

from keras_dec.backbones.scaling import scale
from keras_dec.cli import main
from keras_dec.datasets.shard_stream import ShardStream
from keras_dec.datasets.shards import write_shard
from keras_dec.metrics import evaluate_clustering
from keras_dec.models.dec import DEC
from keras_dec.pipeline import data as pipeline_data
from keras_dec.pipeline import train_dec
from keras_dec.pipeline.seeding import draw_key
from keras_dec.pipeline.stages import Pretrain
from keras_dec.recipe import Recipe

pytestmark = needs_tensorflow  # the stream is a tf.data pipeline, on every backend
RECIPE = Recipe(dims=(16, 16, 32, 3), pretrain_epochs=10, pretrain_learning_rate=0.1,
                pretrain_batch_size=64, batch_size=64, update_interval=10, max_iter=40,
                tol=0.0, n_init=2)


@pytest.fixture(scope="module")
def blob_shards(tmp_path_factory):
    """Four well separated blobs in 8-D, 900 rows, in shards of three formats (read only)."""
    rng = np.random.default_rng(0)
    centers = rng.uniform(0.2, 0.8, (4, 8))
    x = np.clip(centers[np.arange(900) % 4] + rng.normal(0, 0.03, (900, 8)), 0, 1)
    x = x.astype("float32")
    folder = tmp_path_factory.mktemp("blobs") / "shards"
    folder.mkdir()
    for name, (a, b) in {"a.npy": (0, 400), "b.csv": (400, 550), "c.tfrecord": (550, 700),
                         "d.npy": (700, 900)}.items():
        write_shard(folder / name, x[a:b])
    return folder, x


def test_stream_shape_take_and_sample(blob_shards):
    folder, x = blob_shards
    stream = ShardStream(folder, block_rows=64)
    assert stream.shape == (900, 8) and len(stream) == 900 and stream.input_shape == (8,)
    np.testing.assert_array_equal(stream.take([899, 0, 450, 401]), x[[899, 0, 450, 401]])
    indices, rows = stream.sample(100, seed=1)
    assert len(indices) == 100 and np.all(np.diff(indices) > 0)
    np.testing.assert_array_equal(rows, x[indices])
    np.testing.assert_array_equal(stream.sample(100, seed=1)[0], indices)
    np.testing.assert_array_equal(stream.sample(5000, seed=1)[1], x)


def test_ordered_dataset_yields_every_row_in_order(blob_shards):
    folder, x = blob_shards
    batches = list(ShardStream(folder, block_rows=64).ordered_dataset(128))
    assert [len(b) for b in batches] == [128] * 7 + [4]
    np.testing.assert_array_equal(np.concatenate(batches), x)


def test_each_epoch_is_a_seeded_permutation_of_every_row(blob_shards):
    folder, x = blob_shards
    stream = ShardStream(folder, block_rows=64)

    def epoch(seed, stage, number):
        return np.concatenate(list(stream.dataset(100, draw_key(seed, "order", stage, number))))

    first = epoch(0, "dec", 0)
    assert first.shape == x.shape
    np.testing.assert_array_equal(np.sort(first, axis=0), np.sort(x, axis=0))
    np.testing.assert_array_equal(epoch(0, "dec", 0), first)  # same seed and epoch
    assert not np.array_equal(epoch(0, "dec", 1), first)
    assert not np.array_equal(epoch(0, "pretrain", 0), first)
    pairs = list(stream.dataset(100, draw_key(0, "order", "dec", 0), pairs=True, steps=3))
    assert len(pairs) == 3 and all(np.array_equal(a, b) for a, b in pairs)


def test_stream_errors(tmp_path):
    write_shard(tmp_path / "a.npy", np.ones((3, 4)))
    write_shard(tmp_path / "b.npy", np.ones((3, 5)))
    with pytest.raises(ValueError, match=r"b.npy' has rows of shape \(5,\), but .*a.npy' has \(4,\)"):
        ShardStream(tmp_path)
    with pytest.raises(FileNotFoundError, match="No shard files found"):
        ShardStream(tmp_path / "none")
    np.save(tmp_path / "flat.npy", np.ones(3))
    with pytest.raises(ValueError, match=r"flat.npy' must have shape \(n_rows, n_features"):
        ShardStream(tmp_path / "flat.npy")


def test_train_dec_on_a_stream_finds_the_blobs_and_records_it(blob_shards, tmp_path):
    folder, x = blob_shards
    dec, report = train_dec(ShardStream(folder, block_rows=64), 4, RECIPE, seed=0, verbose=0,
                            output=tmp_path / "run")
    # k-means ran on all 900 rows (fewer than KMEANS_MAX_SAMPLES), in shard order.
    truth = np.arange(900) % 4
    initial = evaluate_clustering(truth, dec.initial_labels_)["acc"]
    final = evaluate_clustering(truth, dec.predict_clusters(x))["acc"]
    assert initial > 0.5 and final >= initial - 0.01  # TensorFlow: 0.9956 and 0.9956
    assert report["shards"] == 4 and report["kmeans_sample"] == 900
    assert report["n_samples"] == 900 and report["dec_iterations"] == RECIPE.max_iter
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["label_free"]["embedding"]["dec"]["silhouette"] > 0.3


def test_kmeans_runs_on_a_bounded_sample(blob_shards, monkeypatch):
    folder, _ = blob_shards
    seen = []
    original = DEC.initialize_centers

    def spy(self, x, *args, **kwargs):
        seen.append(len(x))
        return original(self, x, *args, **kwargs)

    monkeypatch.setattr(pipeline_data, "KMEANS_MAX_SAMPLES", 300)
    monkeypatch.setattr(DEC, "initialize_centers", spy)
    _, report = train_dec(ShardStream(folder), 4, RECIPE.replace(max_iter=5), seed=0,
                          verbose=0)
    assert seen == [300] and report["kmeans_sample"] == 300


def test_a_scaled_stream_is_read_once_before_training(blob_shards, monkeypatch):
    """Checking, hashing and fitting the scaling share one read of every row."""
    folder, x = blob_shards
    reads = []
    original = ShardStream.blocks

    def spy(self, shard, order=None):
        reads.append(shard)
        return original(self, shard, order)

    monkeypatch.setattr(ShardStream, "blocks", spy)

    seen = []

    def stop_before_pretraining(stage, run):
        seen.append(run.data.scaling)
        raise KeyboardInterrupt

    monkeypatch.setattr(Pretrain, "run", stop_before_pretraining)
    with pytest.raises(KeyboardInterrupt):
        train_dec(ShardStream(folder, block_rows=64), 4, RECIPE, seed=0, verbose=0,
                  scale="standard")
    assert reads == [0, 1, 2, 3]  # each shard once
    np.testing.assert_allclose(scale(x, seen[0]), (x - x.mean(0)) / x.std(0), atol=1e-4)


class _Interrupt(keras.callbacks.Callback):
    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise KeyboardInterrupt


RESUME_RECIPE = RECIPE.replace(max_iter=60)  # 15 DEC steps per epoch: 4 epochs


def _stream_run(folder, output, **callbacks):
    return train_dec(ShardStream(folder, block_rows=64), 4, RESUME_RECIPE, seed=5, verbose=0,
                     output=output, **callbacks)


@pytest.fixture(scope="module")
def uninterrupted_stream_run(blob_shards, tmp_path_factory):
    return _stream_run(blob_shards[0], tmp_path_factory.mktemp("full"))[0]


@pytest.mark.parametrize("stage", ["pretrain", "dec"])
def test_a_stopped_stream_run_resumes_to_the_same_model(blob_shards, uninterrupted_stream_run,
                                                        tmp_path, stage):
    folder, x = blob_shards
    full = uninterrupted_stream_run
    interrupt = {f"{stage}_callbacks": [_Interrupt(1)]}
    with pytest.raises(KeyboardInterrupt):
        _stream_run(folder, tmp_path / "stopped", **interrupt)
    resumed, report = _stream_run(folder, tmp_path / "stopped")
    np.testing.assert_array_equal(resumed.predict_clusters(x), full.predict_clusters(x))
    np.testing.assert_allclose(resumed.cluster_centers_, full.cluster_centers_, rtol=1e-5,
                               atol=1e-6)


def test_stream_refusals(blob_shards, tmp_path):
    folder, _ = blob_shards
    stream = ShardStream(folder)
    with pytest.raises(ValueError, match="`y` is not supported with a ShardStream"):
        train_dec(stream, 4, RECIPE, y=np.zeros(900))
    with pytest.raises(ValueError, match="`device_loop=True` needs the data on the device"):
        train_dec(stream, 4, RECIPE, device_loop=True)
    with pytest.raises(ValueError, match="Layerwise pretraining needs the data in memory"):
        train_dec(stream, 4, RECIPE.replace(pretrain_method="layerwise"))
    with pytest.raises(ValueError, match="at least n_clusters=1000 samples"):
        train_dec(stream, 1000, RECIPE)
    np.save(tmp_path / "counts.npy", np.arange(20).reshape(10, 2))
    with pytest.raises(ValueError, match="counts.npy'` holds integers from 0 to 19"):
        train_dec(ShardStream(tmp_path / "counts.npy"), 2, RECIPE)
    bad = tmp_path / "nan"
    bad.mkdir()
    np.save(bad / "x.npy", np.array([[0.5, np.nan], [0.1, 0.2]], "float32"))
    with pytest.raises(ValueError, match="x.npy' contains NaN or Inf"):
        train_dec(ShardStream(bad), 2, RECIPE)


def test_cli_trains_from_a_glob(blob_shards, tmp_path, capsys):
    folder, _ = blob_shards
    out = tmp_path / "run"
    code = main(["train", "--data", f"{folder}/*.npy", "--n-clusters", "4", "--output", str(out),
                 "--seed", "0", "--quiet", "--dims", "16,16,32,3", "--pretrain-epochs", "2",
                 "--max-iter", "10", "--scale", "minmax"])
    assert code == 0, capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_samples"] == 600 and metrics["shards"] == 2 and metrics["scale"] == "minmax"
    assert main(["train", "--data", f"{folder}/*.npy", "--max-samples", "5"]) == 2
    assert "`--max-samples` takes the first rows of an array" in capsys.readouterr().err
    assert os.path.exists(out / "model.keras")
