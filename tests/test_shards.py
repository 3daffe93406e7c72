import os

import numpy as np
import pytest

from keras_dec.datasets.shards import list_shards, read_shard, write_shard

EXTENSIONS = (".npy", ".csv", ".tfrecord")


@pytest.mark.parametrize("ext", EXTENSIONS)
def test_write_then_read_gives_the_same_rows(tmp_path, ext):
    x = np.random.default_rng(0).normal(size=(5, 3)).astype("float32")
    path = tmp_path / f"part-0{ext}"
    write_shard(path, x)
    np.testing.assert_array_equal(read_shard(path, n_features=3), x)


def test_images_are_flattened_and_npy_can_be_memory_mapped(tmp_path):
    x = np.arange(24, dtype="float32").reshape(2, 3, 4) / 24
    np.save(tmp_path / "a.npy", x)
    np.testing.assert_array_equal(read_shard(tmp_path / "a.npy"), x.reshape(2, 12))
    mapped = read_shard(tmp_path / "a.npy", n_features=12, mmap=True)
    assert isinstance(mapped, np.memmap)
    np.testing.assert_array_equal(mapped, x.reshape(2, 12))


def test_csv_header_and_empty_shards(tmp_path):
    (tmp_path / "h.csv").write_text("a,b\n1,2\n3,4\n")
    np.testing.assert_array_equal(read_shard(tmp_path / "h.csv"), [[1, 2], [3, 4]])
    np.save(tmp_path / "e.npy", np.zeros((0, 2), "float32"))
    assert read_shard(tmp_path / "e.npy", n_features=2).shape == (0, 2)


def test_list_shards_takes_a_folder_or_a_glob(tmp_path):
    for name in ("b.npy", "a.csv", "c.tfrecord"):
        write_shard(tmp_path / name, np.ones((1, 2)))
    (tmp_path / "notes.txt").write_text("not a shard")
    names = [os.path.basename(p) for p in list_shards(tmp_path)]
    assert names == ["a.csv", "b.npy", "c.tfrecord"]
    assert [os.path.basename(p) for p in list_shards(tmp_path / "*.npy")] == ["b.npy"]


def test_list_shards_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="No shard files found.*nothing-"):
        list_shards(tmp_path / "nothing-*.npy")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="notes.txt' is not a .npy/.csv/.tfrecord"):
        list_shards(tmp_path / "*")


@pytest.mark.parametrize("ext", EXTENSIONS)
def test_a_corrupt_shard_is_named(tmp_path, ext):
    good = tmp_path / f"good{ext}"
    write_shard(good, np.ones((50, 4)))
    bad = tmp_path / f"bad{ext}"
    bad.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2] + b"\x00garbage")
    with pytest.raises(ValueError, match=f"[Ss]hard '{bad}'"):
        read_shard(bad, n_features=4)


def test_wrong_feature_count_and_bad_values_are_named(tmp_path):
    path = tmp_path / "p.tfrecord"
    write_shard(path, np.ones((3, 5)))
    with pytest.raises(ValueError, match=r"shard '.*p.tfrecord'` must have per-sample shape \(4,\).*shape \(3, 5\)"):
        read_shard(path, n_features=4)
    np.save(tmp_path / "m.npy", np.ones((3, 5), "float32"))
    with pytest.raises(ValueError, match=r"m.npy' must have shape \(n_rows, 4\). Received: shape \(3, 5\)"):
        read_shard(tmp_path / "m.npy", n_features=4, mmap=True)
    np.save(tmp_path / "nan.npy", np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="nan.npy'` contains 1 NaN"):
        read_shard(tmp_path / "nan.npy")
    with pytest.raises(ValueError, match="'x.parquet' is not a .npy/.csv/.tfrecord"):
        read_shard("x.parquet")


def test_a_tfrecord_with_a_flipped_byte_fails_its_checksum(tmp_path):
    path = tmp_path / "flip.tfrecord"
    write_shard(path, np.ones((50, 4)))
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="Shard '.*flip.tfrecord' could not be read"):
        read_shard(path, n_features=4)
