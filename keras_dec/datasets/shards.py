"""Data split over many files ("shards"): `.npy`, `.csv` and TFRecord.

One shard is read whole, so a shard must fit in memory; the data set as a
whole need not. A `.npy` shard can be opened memory-mapped instead.

A TFRecord shard holds one `tf.train.Example` per row, its features as a
float list under the key `"features"` (what `write_shard` writes).
"""

from __future__ import annotations

import glob
import io
import os
import struct

import numpy as np

from keras_dec.datasets.readers import read_csv, read_npy
from keras_dec.utils.validation import check_features

SHARD_EXTENSIONS = (".npy", ".csv", ".tfrecord", ".tfrecords")
TFRECORD_KEY = "features"


def list_shards(source: str | os.PathLike) -> list[str]:
    """The shard files a file, a folder or a glob names, sorted.

    An existing file is that file, whatever characters its name holds
    (`data[1].npy` is not a glob); a folder stands for every shard file
    directly in it; only a name that is neither is taken as a glob. Every
    file must end with one of `SHARD_EXTENSIONS`.

    Examples:
        >>> import os, tempfile
        >>> import numpy as np
        >>> folder = tempfile.mkdtemp()
        >>> for i in range(2):
        ...     np.save(os.path.join(folder, f"part-{i}.npy"), np.eye(3, dtype="float32"))
        >>> [os.path.basename(p) for p in list_shards(folder)]
        ['part-0.npy', 'part-1.npy']
    """
    source = os.fspath(source)
    if os.path.isfile(source):
        paths = [source]
    elif os.path.isdir(source):
        paths = [os.path.join(source, n) for n in os.listdir(source)
                 if n.lower().endswith(SHARD_EXTENSIONS) and not n.startswith(".")]
    else:
        paths = [p for p in glob.glob(source) if os.path.isfile(p)]
    if not paths:
        raise FileNotFoundError(
            f"No shard files found. Received: {source!r} (a file, a folder of "
            f"{'/'.join(SHARD_EXTENSIONS)} files, or a glob such as 'shards/*.npy')"
        )
    check_shard_names(paths)
    return sorted(paths)


def is_shard_source(source: str | os.PathLike) -> bool:
    """Whether `source` names shards (a folder, a glob, a TFRecord file), not one array file.

    An existing `.npy`/`.csv`/`.npz` file is one array file, even if its
    name holds glob characters.

    Examples:
        >>> is_shard_source("shards/*.npy"), is_shard_source("features.npy")
        (True, False)
    """
    source = os.fspath(source)
    if source.lower().endswith((".tfrecord", ".tfrecords")) or os.path.isdir(source):
        return True
    return not os.path.isfile(source) and any(c in source for c in "*?[")


def check_shard_names(paths) -> None:
    """Refuses a file whose name does not end with a shard extension."""
    for path in paths:
        if not path.lower().endswith(SHARD_EXTENSIONS):
            raise ValueError(
                f"Shard {path!r} is not a {'/'.join(SHARD_EXTENSIONS)} file; narrow the glob "
                "to the shard files."
            )


def read_shard(
    path: str | os.PathLike,
    n_features: int | None = None,
    opener=open,
    mmap: bool = False,
) -> np.ndarray:
    """The rows of one shard as a 2-D float32 array (or a memory map).

    Integer shards keep their integer dtype, so that callers can apply the
    scaling rule (`check_scaled`) as for an integer `.npy` array. Rows of
    more than one dimension (images) are flattened. Any problem
    (an unreadable file, NaN or Inf, a feature count other than
    `n_features`) raises `ValueError` naming the shard.

    Args:
        path: a `.npy`, `.csv` or `.tfrecord` file.
        n_features: int or None, the feature count every row must have.
        opener: how to open a file for reading in binary mode (e.g. Beam's
            `FileSystems.open` for cloud storage); TFRecord goes through
            TensorFlow's own file systems.
        mmap: open a local `.npy` shard with `mmap_mode="r"` and skip the
            value checks (they would read it all); the caller streams it.

    Examples:
        >>> import os, tempfile
        >>> import numpy as np
        >>> path = os.path.join(tempfile.mkdtemp(), "part-0.csv")
        >>> write_shard(path, np.ones((2, 3)))
        >>> read_shard(path, n_features=3)
        array([[1., 1., 1.],
               [1., 1., 1.]], dtype=float32)
    """
    path = os.fspath(path)
    check_shard_names([path])
    ext = os.path.splitext(path)[1].lower()
    try:
        if ext == ".npy" and mmap:
            x = read_npy(path, mmap=True)
        elif ext == ".npy":
            with opener(path, "rb") as f:
                x = read_npy(io.BytesIO(f.read()))
        elif ext == ".csv":
            with opener(path, "rb") as f:
                x = read_csv(f.read(), name=repr(path))
        else:
            with opener(path, "rb") as f:
                _check_tfrecord_framing(f.read())
            x = _read_tfrecord(path)
    except Exception as e:  # every reader's own error type, named with the shard
        raise ValueError(f"Shard {path!r} could not be read: {e}") from e
    if x.ndim > 2:
        x = x.reshape(len(x), -1)
    if len(x) == 0:  # an empty shard is part of a sharded data set, not an error
        return np.zeros((0, n_features or (x.shape[1] if x.ndim == 2 else 0)), "float32")
    if mmap:
        if x.ndim != 2 or (n_features is not None and x.shape[1] != n_features):
            raise ValueError(f"Shard {path!r} must have shape (n_rows, {n_features}). "
                             f"Received: shape {x.shape}")
        return x
    checked = check_features(x, f"shard {path!r}", n_features=n_features)
    # Integers stay integers, so that the scaling rule (`check_scaled`) sees them.
    return x if x.dtype.kind in "iu" else checked


def write_shard(path: str | os.PathLike, x) -> None:
    """Writes rows as a `.npy`, `.csv` or TFRecord shard that `read_shard` reads back.

    Examples:
        >>> import os, tempfile
        >>> import numpy as np
        >>> path = os.path.join(tempfile.mkdtemp(), "part-0.tfrecord")
        >>> write_shard(path, np.arange(6).reshape(2, 3) / 6)
        >>> read_shard(path).shape
        (2, 3)
    """
    path = os.fspath(path)
    check_shard_names([path])
    x = np.asarray(x, dtype="float32")
    x = x.reshape(len(x), int(np.prod(x.shape[1:])))
    ext = os.path.splitext(path)[1].lower()
    if ext == ".npy":
        np.save(path, x)
    elif ext == ".csv":
        # "%#.9g" always writes a decimal point: whole floats must not read back as integers.
        np.savetxt(path, x, delimiter=",", fmt="%#.9g")
    else:
        import tensorflow as tf

        with tf.io.TFRecordWriter(path) as writer:
            for row in x:
                feature = tf.train.Feature(float_list=tf.train.FloatList(value=row))
                example = tf.train.Example(
                    features=tf.train.Features(feature={TFRECORD_KEY: feature}))
                writer.write(example.SerializeToString())


def _check_tfrecord_framing(data: bytes) -> None:
    """Refuses a TFRecord file cut short: `tf.data` silently drops a partial last record.

    Each record is a uint64 length, a 4-byte CRC, the data and a 4-byte CRC
    (TensorFlow checks the CRCs when it reads).
    """
    offset = 0
    while offset < len(data):
        if offset + 8 > len(data):
            break
        (length,) = struct.unpack_from("<Q", data, offset)
        if offset + 16 + length > len(data):
            break
        offset += 16 + length
    if offset != len(data):
        raise ValueError(
            f"truncated TFRecord file: {len(data) - offset} byte(s) after the last whole "
            f"record (at byte {offset} of {len(data)})"
        )


def _read_tfrecord(path: str) -> np.ndarray:
    import tensorflow as tf

    records = tf.data.TFRecordDataset(path)
    # The first row's length is the shard's; a wrong count is then reported
    # by the common check, not as a parse error.
    first = next(iter(records), None)
    if first is None:
        return np.zeros((0, 0), "float32")
    example = tf.train.Example.FromString(first.numpy())
    n_features = len(example.features.feature[TFRECORD_KEY].float_list.value)
    spec = {TFRECORD_KEY: tf.io.FixedLenFeature([n_features], tf.float32)}
    parsed = records.batch(4096).map(lambda r: tf.io.parse_example(r, spec)[TFRECORD_KEY])
    parts = [b.numpy() for b in parsed]
    return np.concatenate(parts) if parts else np.zeros((0, n_features), "float32")
