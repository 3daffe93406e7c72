"""Training data read from shards block by block, for data larger than memory."""

from __future__ import annotations

import hashlib
import os

import numpy as np

from keras_dec.datasets.readers import npy_header
from keras_dec.datasets.shards import list_shards, read_shard
from keras_dec.utils.validation import check_int, check_scaled

# Rows read at a time from one shard, and rows in the training stream's
# shuffle buffer: what the stream holds in memory, whatever the data's size.
BLOCK_ROWS = 4096
SHUFFLE_ROWS = 16384


class ShardStream:
    """The rows of a set of shards, read a block at a time and never all at once.

    `.npy` shards are opened with `mmap_mode="r"` for each block and closed
    again, so only the block being read is resident; `.csv` and TFRecord
    shards are read whole, one at a time (keep them small). Each epoch's
    training stream (`dataset`) is a `tf.data` pipeline: the shards in a
    seeded order, four interleaved, each read in a seeded block order, then
    a seeded shuffle buffer of `SHUFFLE_ROWS` rows. `ordered_dataset` yields
    every row once, in shard order, for DEC's target refresh.

    Args:
        source: a folder of shards, a glob (`'shards/*.npy'`) or one file.
        block_rows: int, rows per read.

    Examples:
        >>> import os, tempfile
        >>> import numpy as np
        >>> folder = tempfile.mkdtemp()
        >>> for i in range(3):
        ...     np.save(os.path.join(folder, f"part-{i}.npy"), np.full((5, 2), i, "float32"))
        >>> stream = ShardStream(folder)
        >>> stream.shape, stream.take([0, 7, 14]).tolist()
        ((15, 2), [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    """

    def __init__(self, source: str | os.PathLike, block_rows: int = BLOCK_ROWS):
        self.source = os.fspath(source)
        self.block_rows = check_int("block_rows", block_rows, 1)
        self.paths = list_shards(self.source)
        self.counts, shapes = [], []
        for path in self.paths:
            if path.lower().endswith(".npy"):
                header = _npy_header(path)
                self.counts.append(header[0])
                shapes.append(header[1:])
            else:
                rows = read_shard(path)
                self.counts.append(len(rows))
                shapes.append(rows.shape[1:] if len(rows) else None)
        known = [s for s in shapes if s is not None]
        if not known:
            raise ValueError(f"The shards hold no rows. Received: {self.source!r}")
        self.input_shape = tuple(int(v) for v in known[0])
        for path, shape in zip(self.paths, shapes, strict=True):
            if shape is not None and int(np.prod(shape)) != int(np.prod(self.input_shape)):
                raise ValueError(
                    f"Shard {path!r} has rows of shape {tuple(shape)}, but "
                    f"{self.paths[0]!r} has {self.input_shape}; every shard needs the same "
                    "features.")
        self.n_features = int(np.prod(self.input_shape))
        self.offsets = np.concatenate([[0], np.cumsum(self.counts)]).astype("int64")
        # The error of a shard that failed to read inside a tf.data pipeline, which
        # TensorFlow reports only as "Graph execution error" (`read_error`).
        self.read_error = None

    @property
    def shape(self) -> tuple[int, int]:
        """`(n_samples, n_features)`, as for a 2-D array."""
        return int(self.offsets[-1]), self.n_features

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def rows(self, shard: int, start: int, stop: int) -> np.ndarray:
        """Rows `start:stop` of shard number `shard`, float32 `(n, n_features)`.

        A shard that cannot be read (deleted, truncated since the stream was
        opened) raises `ValueError` naming it, also kept as `read_error`.
        """
        path = self.paths[shard]
        try:
            if path.lower().endswith(".npy"):
                mapped = np.load(path, mmap_mode="r", allow_pickle=False)
                block = np.array(mapped[start:stop]).reshape(stop - start, -1)
                del mapped  # unmapped: the pages read leave this process
            else:
                block = read_shard(path)[start:stop]
        except (OSError, ValueError) as e:
            message = str(e) if str(e).startswith(f"Shard {path!r}") else (
                f"Shard {path!r} could not be read: {e}")
            self.read_error = ValueError(f"{message} (it changed or went away since the "
                                         "stream was opened)")
            raise self.read_error from None
        if block.dtype.kind == "f":
            return block.astype("float32", copy=False)
        return block

    def blocks(self, shard: int, order=None):
        """Yields the blocks of one shard, in `order` (block numbers) or in file order."""
        count = self.counts[shard]
        n_blocks = -(-count // self.block_rows)
        if self.paths[shard].lower().endswith(".npy"):
            for b in range(n_blocks) if order is None else order:
                start = int(b) * self.block_rows
                yield self.rows(shard, start, min(start + self.block_rows, count))
            return
        rows = self.rows(shard, 0, count)  # read whole once
        for b in range(n_blocks) if order is None else order:
            start = int(b) * self.block_rows
            yield rows[start:start + self.block_rows]

    def iter_blocks(self):
        """Every block of every shard, in order."""
        for shard in range(len(self.paths)):
            yield from self.blocks(shard)

    def check(self, integers_allowed: bool = False, visit=None) -> str:
        """One pass over every row: NaN/Inf and unscaled integers refused; returns a SHA-256.

        The digest covers the shard names, shapes and values, so a resumed run
        can tell whether its data changed. `visit`, if given, is called with
        each checked block, so the same read can fit a scaling
        (`ScalingFit.add`).
        """
        digest = hashlib.sha256(f"{self.shape}|{self.input_shape}".encode())
        for shard, path in enumerate(self.paths):
            digest.update(f"|{os.path.basename(path)}:{self.counts[shard]}|".encode())
            for block in self.blocks(shard):
                if not integers_allowed:
                    check_scaled(block, f"shard {path!r}")
                values = block.astype("float32", copy=False)
                if not np.all(np.isfinite(values)):
                    raise ValueError(f"Shard {path!r} contains NaN or Inf values; clean or "
                                     "impute them first.")
                digest.update(np.ascontiguousarray(values).tobytes())
                if visit is not None:
                    visit(block)
        return digest.hexdigest()

    def take(self, indices) -> np.ndarray:
        """The rows at global `indices` (in the order given), float32."""
        indices = np.asarray(indices, dtype="int64")
        out = np.empty((len(indices), self.n_features), "float32")
        shard_of = np.searchsorted(self.offsets, indices, side="right") - 1
        for shard in np.unique(shard_of):
            where = np.flatnonzero(shard_of == shard)
            local = indices[where] - self.offsets[shard]
            if self.paths[shard].lower().endswith(".npy"):
                mapped = np.load(self.paths[shard], mmap_mode="r", allow_pickle=False)
                out[where] = np.asarray(mapped[np.sort(local)]).reshape(len(where), -1)[
                    np.argsort(np.argsort(local))]
                del mapped
            else:
                out[where] = self.rows(int(shard), 0, self.counts[shard])[local]
        return out

    def sample(self, size: int, seed: int | None) -> tuple[np.ndarray, np.ndarray]:
        """`(indices, rows)` of a seeded uniform sample of at most `size` rows, sorted."""
        n = len(self)
        if n <= size:
            indices = np.arange(n)
        else:
            indices = np.sort(np.random.default_rng(seed).choice(n, size, replace=False))
        return indices, self.take(indices)

    def dataset(self, batch_size: int, key=None, pairs: bool = False, steps: int | None = None,
                transform=None):
        """One epoch's training stream: batches of rows (or `(x, x)` pairs), seeded order.

        Args:
            batch_size: int, rows per batch.
            key: the `numpy.random.default_rng` seed of the epoch's order
                (shard order, block orders, shuffle), e.g. the pipeline's
                `draw_key(seed, "order", stage, epoch)`; None for a fresh one.
            pairs: bool, yield `(x, x)` (for the autoencoder).
            steps: int or None, cut the epoch to this many batches.
            transform: optional function applied to each block (scaling).
        """
        import tensorflow as tf

        rng = np.random.default_rng(key)
        n_shards = len(self.paths)
        shard_order = rng.permutation(n_shards)
        block_seeds = rng.integers(2**31, size=n_shards)
        shuffle_seed = int(rng.integers(2**31))

        def shard_blocks(shard, block_seed):
            shard = int(shard)
            n_blocks = -(-self.counts[shard] // self.block_rows)
            order = np.random.default_rng(int(block_seed)).permutation(n_blocks)
            for block in self.blocks(shard, order):
                yield _transformed(block, transform)

        spec = tf.TensorSpec((None, self.n_features), tf.float32)
        data = tf.data.Dataset.from_tensor_slices((shard_order, block_seeds)).interleave(
            lambda i, s: tf.data.Dataset.from_generator(shard_blocks, args=(i, s),
                                                        output_signature=spec),
            cycle_length=min(4, n_shards), block_length=1)
        data = data.unbatch().shuffle(SHUFFLE_ROWS, seed=shuffle_seed,
                                      reshuffle_each_iteration=False).batch(batch_size)
        n_batches = -(-len(self) // batch_size)
        if steps is not None and steps < n_batches:
            data, n_batches = data.take(steps), steps
        # Keras then knows the epoch's length (progress bars, no "ran out of data").
        data = data.apply(tf.data.experimental.assert_cardinality(n_batches))
        if pairs:
            data = data.map(lambda b: (b, b))
        return data.prefetch(2)

    def ordered_dataset(self, batch_size: int, transform=None):
        """Every row once, in shard order, in batches of `batch_size`."""
        import tensorflow as tf

        def all_blocks():
            for block in self.iter_blocks():
                yield _transformed(block, transform)

        spec = tf.TensorSpec((None, self.n_features), tf.float32)
        data = tf.data.Dataset.from_generator(all_blocks, output_signature=spec)
        data = data.unbatch().batch(batch_size)
        data = data.apply(tf.data.experimental.assert_cardinality(-(-len(self) // batch_size)))
        return data.prefetch(2)


def _transformed(block, transform):
    block = block if transform is None else transform(block)
    return np.asarray(block, dtype="float32")


def _npy_header(path: str) -> tuple[int, ...]:
    """The shape stored in a `.npy` file's header (nothing else is read)."""
    try:
        shape = npy_header(path)[0]
    except Exception as e:
        raise ValueError(f"Shard {path!r} could not be read: {e}") from e
    if len(shape) < 2:
        raise ValueError(f"Shard {path!r} must have shape (n_rows, n_features, ...). "
                         f"Received: shape {shape}")
    return shape
