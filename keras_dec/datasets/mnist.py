"""MNIST and Fashion-MNIST from local IDX files, with a keras.datasets fallback."""

from __future__ import annotations

import os

import numpy as np

from keras_dec.datasets.idx import read_idx

_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
SUBSETS = ("all", "train", "test")


def _find(name: str, path, env_var: str, system_dir: str) -> str | None:
    """The folder to read: `path`, else `$env_var`, else the Debian folder if present."""
    for candidate, source in ((path, "path"), (os.environ.get(env_var), env_var)):
        if candidate:
            candidate = os.fspath(candidate)
            if not os.path.isdir(candidate):
                raise FileNotFoundError(
                    f"{name} folder not found. Received: {source}={candidate!r}"
                )
            return candidate
    return system_dir if os.path.isdir(system_dir) else None


def _load(name, path, env_var, system_dir, download, subset, flatten):
    if subset not in SUBSETS:
        raise ValueError(f"`subset` must be one of {SUBSETS}. Received: subset={subset!r}")
    folder = _find(name, path, env_var, system_dir)
    parts = ("train", "test") if subset == "all" else (subset,)
    if folder is None:
        # No local copy: keras.datasets downloads and caches it (needs internet).
        (x_train, y_train), (x_test, y_test) = download()
        data = {"train": (x_train, y_train), "test": (x_test, y_test)}
    else:
        data = {}
        for part in parts:
            images, labels = (os.path.join(folder, f) for f in _FILES[part])
            data[part] = (read_idx(images), read_idx(labels))
            if data[part][0].shape[0] != data[part][1].shape[0]:
                raise ValueError(
                    f"{images!r} holds {data[part][0].shape[0]} images but {labels!r} "
                    f"holds {data[part][1].shape[0]} labels."
                )
    x = np.concatenate([data[p][0] for p in parts]).astype("float32") / 255.0
    y = np.concatenate([data[p][1] for p in parts]).astype("int64")
    x = x.reshape(len(x), -1) if flatten else x[..., None]
    return x, y


def load_fashion_mnist(
    path: str | os.PathLike | None = None, subset: str = "all", flatten: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST (70,000 28x28 images, 10 classes) from the four IDX `.gz` files.

    The folder is `path`, else `$KERAS_DEC_FASHION_MNIST_DIR`, else
    `/usr/share/datasets/fashion-mnist` (Debian's `dataset-fashion-mnist`
    package), else `keras.datasets.fashion_mnist` downloads it.

    Args:
        path: folder holding `train-images-idx3-ubyte.gz` and the three others.
        subset: `"all"` (train then test, as DEC uses), `"train"` or `"test"`.
        flatten: `(n, 784)` if True, `(n, 28, 28, 1)` otherwise.

    Returns:
        `(x, y)`: float32 pixels in [0, 1], int64 labels.

    Example (where the Debian package is installed):

    >>> x, y = load_fashion_mnist(subset="test")  # doctest: +SKIP
    >>> x.shape  # doctest: +SKIP
    (10000, 784)
    """
    import keras

    return _load(
        "Fashion-MNIST", path, "KERAS_DEC_FASHION_MNIST_DIR",
        "/usr/share/datasets/fashion-mnist", keras.datasets.fashion_mnist.load_data,
        subset, flatten,
    )


def load_mnist(
    path: str | os.PathLike | None = None, subset: str = "all", flatten: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST (70,000 28x28 digits) from the four IDX `.gz` files.

    The folder is `path`, else `$KERAS_DEC_MNIST_DIR`, else
    `/usr/share/datasets/mnist`, else `keras.datasets.mnist` downloads it.
    Arguments and return values as in `load_fashion_mnist`.

    Examples:
        >>> x, y = load_mnist("/data/mnist")  # doctest: +SKIP
    """
    import keras

    return _load(
        "MNIST", path, "KERAS_DEC_MNIST_DIR", "/usr/share/datasets/mnist",
        keras.datasets.mnist.load_data, subset, flatten,
    )
