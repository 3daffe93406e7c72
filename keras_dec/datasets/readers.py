"""The file readers every entry point shares: `.npy` (size checked before reading) and `.csv`.

`load_array` (train, predict, export, report, select-k) and `read_shard`
(`ShardStream`, `assign`) read files through these functions only, so a file
means the same rows everywhere.

The CSV rules, exactly:

1. The text is UTF-8; a byte-order mark (Excel's "CSV UTF-8") is dropped.
2. Fields are separated by commas; blank lines are skipped.
3. The first line is a header when any of its fields is not a number, or
   when it is written exactly `0,1,...,d-1` (the column names pandas writes
   for an unnamed DataFrame; `0.0,1.0,...` or `0.000e+00,...` are data). A
   warning is given when the rows below are whole numbers too, where that
   line could also be data.
4. A header whose first field is empty or `Unnamed: 0` marks a pandas index
   column (`DataFrame.to_csv` with its default `index=True`): that column is
   dropped.
5. When every value is written as a whole number (no `.`, exponent, `nan`
   or `inf`), the rows are integers (int64), as an integer `.npy` is, and
   the same scaling rule applies to them.
"""

from __future__ import annotations

import io
import os
import re
import warnings

import numpy as np

_NOT_INTEGER = re.compile(r"[.eEnN]")  # a decimal point, an exponent, nan or inf


def npy_header(file) -> tuple[tuple[int, ...], np.dtype, int]:
    """`(shape, dtype, data_offset)` of a `.npy` file, from its header alone.

    Refuses a file that is not `.npy`, holds Python objects, or is shorter
    than its header claims (a truncated file, or a header claiming more
    rows than the file holds), before anything is allocated.

    Args:
        file: a path, or a binary file object positioned at the start.

    Examples:
        >>> import tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "x.npy")
        >>> np.save(path, np.zeros((3, 2), "float32"))
        >>> npy_header(path)[:2]
        ((3, 2), dtype('float32'))
    """
    if isinstance(file, (str, os.PathLike)):
        with open(file, "rb") as f:
            return npy_header(f)
    name = getattr(file, "name", "the file")
    start = file.tell()
    head = file.read(6)
    file.seek(start)
    if head != b"\x93NUMPY":
        kind = "gzip data" if head[:2] == b"\x1f\x8b" else f"bytes {head!r}"
        raise ValueError(f"{name!r} is not a NumPy .npy file: no NPY magic number at its start "
                         f"(found {kind}). Save features with numpy.save, or use .csv/.npz.")
    try:
        version = np.lib.format.read_magic(file)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, _, dtype = read_header(file)
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f"{name!r} has a malformed .npy header: {e}") from None
    if dtype.hasobject:
        raise ValueError(f"{name!r} holds Python objects (pickled data), which keras-dec never "
                         "loads; save plain numeric arrays instead.")
    offset = file.tell()
    file.seek(0, io.SEEK_END)
    available = file.tell() - offset
    file.seek(start)
    claimed = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    if claimed > available:
        raise ValueError(
            f"{name!r} claims shape {tuple(shape)} of {dtype} ({claimed:,} bytes) but holds "
            f"{available:,} bytes after its header: it is truncated or corrupt."
        )
    return tuple(int(d) for d in shape), dtype, offset


def read_npy(file, mmap: bool = False) -> np.ndarray:
    """A `.npy` file's array, its header checked first (`npy_header`); never unpickles.

    Examples:
        >>> import tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "x.npy")
        >>> np.save(path, np.arange(4))
        >>> read_npy(path).tolist()
        [0, 1, 2, 3]
    """
    npy_header(file)
    if mmap:
        return np.load(file, mmap_mode="r", allow_pickle=False)
    return np.load(file, allow_pickle=False)


def read_csv(source, name: str | None = None) -> np.ndarray:
    """The rows of a CSV file (or bytes, or text) by the module's rules: 2-D int64 or float64.

    Examples:
        >>> read_csv(b"\\xef\\xbb\\xbf,0,1\\n0,0.5,2\\n1,1.5,3\\n")  # BOM, pandas header and index
        array([[0.5, 2. ],
               [1.5, 3. ]])
    """
    if isinstance(source, os.PathLike) or (isinstance(source, str) and "\n" not in source
                                           and os.path.isfile(source)):
        name = name or repr(os.fspath(source))
        with open(source, "rb") as f:
            source = f.read()
    if isinstance(source, bytes):
        source = source.decode("utf-8-sig")
    elif source.startswith("\ufeff"):
        source = source[1:]
    name = name or "the CSV data"
    lines = [line for line in source.splitlines() if line.strip()]
    if not lines:
        return np.zeros((0, 0), "float64")
    header = [field.strip() for field in lines[0].split(",")]
    body = lines[1:] if _is_header(header, lines[1:], name) else lines
    integers = not any(_NOT_INTEGER.search(line) for line in body)
    x = np.loadtxt(body, delimiter=",", dtype="int64" if integers else "float64", ndmin=2)
    if body is not lines and header[0] in ("", "Unnamed: 0"):
        x = x[:, 1:]  # pandas' index column
    return x


def _is_header(fields: list[str], rest: list[str], name: str) -> bool:
    try:
        [float(f) for f in fields]
    except ValueError:
        return True
    if len(fields) < 2 or fields != [str(i) for i in range(len(fields))] or not rest:
        return False
    if not any(_NOT_INTEGER.search(line) for line in rest):
        warnings.warn(
            f"The first line of {name} ({','.join(fields)}) is taken as pandas' column names "
            "(0, 1, ..., d-1), not as data; write the file with header=False or named columns "
            "if it is data.", stacklevel=3)
    return True
