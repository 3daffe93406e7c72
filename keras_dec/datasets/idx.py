"""A reader for the IDX format of MNIST-style data sets (plain or gzipped)."""

from __future__ import annotations

import gzip
import os

import numpy as np

_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Reads an IDX file (`.gz` or not) into a NumPy array.

    Raises `FileNotFoundError` for a missing file and `ValueError` naming the
    file for anything that is not a complete IDX file.

    Examples:
        >>> import gzip, os, tempfile
        >>> import numpy as np
        >>> path = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte.gz")
        >>> with gzip.open(path, "wb") as f:
        ...     _ = f.write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
        >>> read_idx(path).tolist()
        [7, 8, 9]
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"IDX file not found. Received: path={path!r}")
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise ValueError(f"Cannot read IDX file {path!r}: {e}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        raise ValueError(
            f"{path!r} is not an IDX file (bad magic number {raw[:4].hex() or 'empty'})."
        )
    dtype = _DTYPES[raw[2]]
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise ValueError(f"{path!r} is a corrupt IDX file: truncated header.")
    shape = tuple(int(d) for d in np.frombuffer(raw[4:header], dtype=">u4"))
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(
            f"{path!r} is a corrupt IDX file: the header announces shape {shape} "
            f"({expected} bytes of data) but the file holds {len(raw) - header} bytes."
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))
