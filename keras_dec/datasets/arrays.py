"""The user's own features from `.npy`, `.npz` or `.csv` files."""

from __future__ import annotations

import os
import zipfile

import numpy as np

from keras_dec.utils.validation import check_float32_range

EXTENSIONS = (".npy", ".npz", ".csv")


def load_array(
    path: str | os.PathLike, key: str | None = None, labels_key: str = "y"
) -> tuple[np.ndarray, np.ndarray | None]:
    """Loads a feature matrix (and labels, if the file has them) from disk.

    - `.npy`: one array of features; no labels.
    - `.npz`: features under `key` (default: `"x"`, or the only array), labels
      under `labels_key` if present.
    - `.csv`: comma-separated numbers, one row per sample; a first line that
      is not numeric is taken as a header.

    Files are read with `allow_pickle=False`: nothing is ever unpickled.

    Returns:
        `(x, y)`: the features, float32 (integer arrays keep their integer
        dtype, so callers can tell unscaled pixels or counts), and int64
        labels or None.

    Example:

    >>> import os, tempfile
    >>> import numpy as np

from keras_dec.utils.validation import check_float32_range
    >>> path = os.path.join(tempfile.mkdtemp(), "features.npy")
    >>> np.save(path, np.eye(3))
    >>> x, y = load_array(path)
    >>> x.shape, x.dtype.name, y
    ((3, 3), 'float32', None)
    """
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    if ext not in EXTENSIONS:
        raise ValueError(
            f"`path` must end with one of {EXTENSIONS}. Received: path={path!r}"
        )
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Data file not found. Received: path={path!r}")
    y = None
    try:
        if ext == ".npy":
            with open(path, "rb") as f:
                head = f.read(6)
            if head != b"\x93NUMPY":
                kind = "gzip data" if head[:2] == b"\x1f\x8b" else f"bytes {head!r}"
                raise ValueError(
                    f"{path!r} is not a NumPy .npy file: no NPY magic number at its start "
                    f"(found {kind}). Save features with numpy.save, or use .csv/.npz."
                )
            x = np.load(path, allow_pickle=False)
        elif ext == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                names = list(archive.files)
                if key is None:
                    key = "x" if "x" in names else (names[0] if len(names) == 1 else None)
                if key not in names:
                    raise ValueError(
                        f"{path!r} holds arrays {names}; pass `key` to choose the features. "
                        f"Received: key={key!r}"
                    )
                x = archive[key]
                if labels_key in names and labels_key != key:
                    y = archive[labels_key]
        else:
            x = _read_csv(path)
    except (OSError, zipfile.BadZipFile, EOFError) as e:
        raise ValueError(f"{path!r} is not a valid {ext} file: {e}") from None
    except ValueError as e:
        if "Object arrays cannot be loaded" in str(e):
            raise ValueError(
                f"{path!r} holds Python objects (pickled data), which keras-dec never loads; "
                "save plain numeric arrays instead."
            ) from None
        if str(e).startswith(repr(path)):
            raise
        raise ValueError(f"{path!r} is not a valid {ext} file: {e}") from None
    if x.dtype.kind not in "biuf":
        raise ValueError(
            f"{path!r} must hold numeric features. Received: an array of dtype {x.dtype}"
        )
    if x.dtype.kind != "i" and x.dtype.kind != "u":
        check_float32_range(x, "x")
        x = x.astype("float32")
    if y is not None:
        y = _labels(y, path, labels_key)
    return x, y


def _labels(y: np.ndarray, path: str, name: str) -> np.ndarray:
    """Integer labels as int64; string labels as codes (sorted order); anything else refused."""
    y = np.asarray(y)
    where = f"labels `{name}` in {path!r}"
    if y.ndim != 1:
        raise ValueError(f"The {where} must be one label per sample (1-D). Received: shape "
                         f"{y.shape}")
    if y.dtype.kind in "iub":
        return y.astype("int64")
    if y.dtype.kind in "US":
        return np.unique(y, return_inverse=True)[1].astype("int64")
    if y.dtype.kind == "f":
        whole = np.isfinite(y) & (y == np.round(y))
        if whole.all():
            return y.astype("int64")
        bad = y[~whole][:3]
        raise ValueError(
            f"The {where} must be integers or strings; {int((~whole).sum())} value(s) are not "
            f"whole numbers (e.g. {bad.tolist()}). Casting them would give wrong metrics."
        )
    raise ValueError(f"The {where} must be integers or strings. Received: dtype {y.dtype}")


def _read_csv(path: str) -> np.ndarray:
    with open(path, encoding="utf-8") as f:
        first = f.readline()
    try:
        [float(v) for v in first.strip().split(",")]
        skip = 0
    except ValueError:
        skip = 1
    x = np.loadtxt(path, delimiter=",", skiprows=skip, dtype="float64", ndmin=2)
    return x
