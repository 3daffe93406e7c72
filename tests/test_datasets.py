import gzip
import os

import numpy as np
import pytest

from keras_dec.datasets import load_array, load_digits, load_fashion_mnist, load_mnist, read_idx


def write_idx(path, array):
    header = bytes([0, 0, 8, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype("u1").tobytes())


@pytest.fixture
def idx_folder(tmp_path):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 6), ("t10k", 4)):
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n))
    return tmp_path


def test_digits():
    x, y = load_digits()
    assert x.shape == (1797, 64) and x.dtype == np.float32 and 0 <= x.min() and x.max() == 1
    assert load_digits(flatten=False)[0].shape == (1797, 8, 8, 1)


def test_idx_round_trip(idx_folder):
    images = read_idx(idx_folder / "train-images-idx3-ubyte.gz")
    assert images.shape == (6, 28, 28) and images.dtype == np.uint8


@pytest.mark.parametrize("loader", [load_fashion_mnist, load_mnist])
def test_loaders_read_a_folder(idx_folder, loader):
    x, y = loader(idx_folder)
    assert x.shape == (10, 784) and x.dtype == np.float32 and x.max() <= 1.0 and y.shape == (10,)
    raw = read_idx(idx_folder / "train-images-idx3-ubyte.gz")
    np.testing.assert_allclose(x[:6], raw.reshape(6, -1) / 255.0, rtol=1e-6)
    x_test, _ = loader(idx_folder, subset="test", flatten=False)
    assert x_test.shape == (4, 28, 28, 1)


def test_environment_variable_names_the_folder(idx_folder, monkeypatch):
    monkeypatch.setenv("KERAS_DEC_FASHION_MNIST_DIR", str(idx_folder))
    assert load_fashion_mnist(subset="train")[0].shape == (6, 784)


def test_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="Fashion-MNIST folder not found. Received: path="):
        load_fashion_mnist(tmp_path / "nope")


def test_bad_subset(idx_folder):
    with pytest.raises(ValueError, match="`subset` must be one of .*Received: subset='val'"):
        load_mnist(idx_folder, subset="val")


def test_corrupt_idx_files(tmp_path):
    truncated = tmp_path / "a-idx3-ubyte.gz"
    with gzip.open(truncated, "wb") as f:
        f.write(bytes([0, 0, 8, 3]) + np.array([5, 28, 28], ">u4").tobytes() + b"\x00" * 100)
    with pytest.raises(ValueError, match=r"corrupt IDX file: the header announces shape \(5, 28, 28\)"):
        read_idx(truncated)
    not_idx = tmp_path / "b.gz"
    with gzip.open(not_idx, "wb") as f:
        f.write(b"hello world")
    with pytest.raises(ValueError, match="is not an IDX file"):
        read_idx(not_idx)
    not_gzip = tmp_path / "c.gz"
    not_gzip.write_bytes(b"plain")
    with pytest.raises(ValueError, match="Cannot read IDX file"):
        read_idx(not_gzip)
    with pytest.raises(FileNotFoundError, match="IDX file not found"):
        read_idx(tmp_path / "missing.gz")


def test_debian_fashion_mnist_if_installed():
    if not os.path.isdir("/usr/share/datasets/fashion-mnist"):
        pytest.skip("apt-get install dataset-fashion-mnist")
    x, y = load_fashion_mnist(subset="test")
    assert x.shape == (10000, 784) and set(np.unique(y)) == set(range(10))


def test_load_array_formats(tmp_path):
    x = np.arange(12, dtype="float64").reshape(4, 3)
    np.save(tmp_path / "a.npy", x)
    np.savez(tmp_path / "b.npz", x=x, y=np.array([0, 1, 0, 1]))
    np.savetxt(tmp_path / "c.csv", x, delimiter=",", header="f1,f2,f3", comments="")
    np.savetxt(tmp_path / "d.csv", x, delimiter=",")
    for name in ("a.npy", "b.npz", "c.csv", "d.csv"):
        got, labels = load_array(tmp_path / name)
        np.testing.assert_array_equal(got, x.astype("float32"))
        assert got.dtype == np.float32
    assert load_array(tmp_path / "b.npz")[1].tolist() == [0, 1, 0, 1]


def test_load_array_errors(tmp_path):
    with pytest.raises(ValueError, match=r"`path` must end with one of \('.npy', '.npz', '.csv'\)"):
        load_array(tmp_path / "x.txt")
    with pytest.raises(FileNotFoundError, match="Data file not found"):
        load_array(tmp_path / "x.npy")
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="holds Python objects"):
        load_array(tmp_path / "obj.npy")
    (tmp_path / "fake.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="is not a valid .npz file"):
        load_array(tmp_path / "fake.npz")
    (tmp_path / "fake.npy").write_text("hello")
    with pytest.raises(ValueError, match="is not a NumPy .npy file: no NPY magic number"):
        load_array(tmp_path / "fake.npy")
    np.savez(tmp_path / "two.npz", a=np.zeros(2), b=np.zeros(2))
    with pytest.raises(ValueError, match=r"holds arrays \['a', 'b'\] and none is named x: save the features as `x`"):
        load_array(tmp_path / "two.npz")
    (tmp_path / "text.csv").write_text("a,b\nx,y\n")
    with pytest.raises(ValueError, match="is not a valid .csv file"):
        load_array(tmp_path / "text.csv")
    np.save(tmp_path / "str.npy", np.array([["a", "b"]]))
    with pytest.raises(ValueError, match="must hold numeric features. Received: an array of dtype <U1"):
        load_array(tmp_path / "str.npy")
