"""The user's own features from `.npy`, `.npz` or `.csv` files."""

from __future__ import annotations

import os
import zipfile

import numpy as np

from keras_dec.datasets.readers import npy_header, read_csv, read_npy
from keras_dec.utils.validation import check_float32_range

EXTENSIONS = (".npy", ".npz", ".csv")


def load_array(
    path: str | os.PathLike, key: str | None = None, labels_key: str = "y"
) -> tuple[np.ndarray, np.ndarray | None]:
    """Loads a feature matrix (and labels, if the file has them) from disk.

    - `.npy`: one array of features; no labels.
    - `.npz`: features under `key` (default: `"x"`, or the only array), labels
      under `labels_key` if present.
    - `.csv`: comma-separated numbers, one row per sample, by the rules of
      `keras_dec.datasets.readers` (headers, pandas' index column, a UTF-8
      byte-order mark, whole numbers read as integers).

    Files are read with `allow_pickle=False`: nothing is ever unpickled. A
    `.npy` header is checked against the file's size before anything is
    allocated.

    Returns:
        `(x, y)`: the features, float32 (integer arrays keep their integer
        dtype, so callers can tell unscaled pixels or counts), and int64
        labels or None.

    Examples:
        >>> import os, tempfile
        >>> import numpy as np
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
            x = read_npy(path)
        elif ext == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                names = list(archive.files)
                if key is None:
                    key = "x" if "x" in names else (names[0] if len(names) == 1 else None)
                if key not in names:
                    raise ValueError(
                        f"{path!r} holds arrays {names} and none is named "
                        f"{'x' if key is None else repr(key)}: save the features as `x` "
                        "(numpy.savez(path, x=features, y=labels)), or pass `key` to "
                        "keras_dec.datasets.load_array."
                    )
                with archive.zip.open(f"{key}.npy") as member:
                    npy_header(member)
                x = archive[key]
                if labels_key in names and labels_key != key:
                    y = archive[labels_key]
        else:
            x = read_csv(path, name=repr(path))
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
    if x.dtype.kind not in "iu":
        check_float32_range(x, "x")
        x = x.astype("float32", copy=False)
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

