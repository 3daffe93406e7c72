"""The one door training data enters by: read, checked, flattened, hashed and scaled once.

`prepare_training_data` turns what the user passed (an array, or a
`ShardStream`) into a `TrainingData` that every stage after it trusts: no
stage re-checks, re-reads or copies the rows again. As Keras keeps one data
adapter per input kind, `ArrayData` and `StreamData` hold the one decision
that differs between them: how an epoch's batches and the target refresh's
pass are fed.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from keras_dec.backbones.scaling import ScalingFit, fit_scaling
from keras_dec.backbones.scaling import scale as scale_features
from keras_dec.backend import fit_inputs
from keras_dec.datasets.shard_stream import ShardStream
from keras_dec.pipeline.seeding import draw_key, epoch_order
from keras_dec.recipe import SCALINGS
from keras_dec.utils.fingerprint import array_sha256
from keras_dec.utils.validation import (
    check_choice,
    check_features,
    check_int,
    check_scaled,
    distinct_rows,
)

# A `ShardStream` larger than this is k-means-initialised (and scored by the
# label-free report) on a seeded uniform sample of this many rows; at or
# below it, on every row, as an array is.
KMEANS_MAX_SAMPLES = 100_000


class TrainingData:
    """Checked training data, as the pipeline's stages use it.

    Attributes:
        n_samples, n_features: ints; rows are flat (`n_features` values).
        input_shape: tuple, one sample's shape before flattening (what
            `predict` and the exported models take).
        points: float32 `(m, n_features)` rows in memory, unscaled: all rows
            of an array, a seeded sample of a stream. k-means initialises on
            them and the label-free report scores them.
        points_fit: `points` as the autoencoder sees them (scaled).
        y: int labels of `points` or None, only for the report.
        digest: SHA-256 of the data, part of a run's identity.
        scale: "none", "minmax" or "standard"; `scaling` its fitted layer.
        in_memory: bool, the rows are one array (`x`, `x_fit`).
    """

    in_memory = False
    x = x_fit = None

    def __init__(self, n_samples, n_features, input_shape, points, y, digest, scale, scaling):
        self.n_samples, self.n_features = int(n_samples), int(n_features)
        self.input_shape = tuple(int(d) for d in input_shape)
        self.points, self.y, self.digest = points, y, digest
        self.scale, self.scaling = scale, scaling
        self.points_fit = scale_features(points, scaling)

    @property
    def shape(self) -> tuple[int, int]:
        """`(n_samples, n_features)`."""
        return self.n_samples, self.n_features

    def epoch_inputs(self, stage: str, epoch: int, batch_size: int, seed: int | None,
                     steps: int | None = None, pairs: bool = False,
                     rows: np.ndarray | None = None) -> dict:
        """`fit` arguments for one epoch of `stage`, in the epoch's seeded order.

        "pretrain" feeds the scaled rows (or `rows`, e.g. their augmented
        copy) as `(x, x)` pairs with `pairs`; "dec" feeds the raw rows (DEC's
        encoder scales them itself). `steps` cuts the epoch short.
        """
        raise NotImplementedError

    def refresh_data(self):
        """Every row once, in a fixed order, for DEC's target refresh."""
        raise NotImplementedError

    def read_error(self) -> Exception | None:
        """The error of a failed read of the data during training, if one is known.

        A shard that fails inside a `tf.data` pipeline surfaces from `fit`
        as a long "Graph execution error"; this is its one-line cause.
        """
        return None


class ArrayData(TrainingData):
    """Training data held in memory as one float32 array."""

    in_memory = True

    def __init__(self, x, y, input_shape, digest, scale, scaling):
        super().__init__(len(x), x.shape[1], input_shape, x, y, digest, scale, scaling)
        self.x = x
        self.x_fit = self.points_fit

    def epoch_inputs(self, stage, epoch, batch_size, seed, steps=None, pairs=False, rows=None):
        if rows is None:
            rows = self.x_fit if stage == "pretrain" else self.x
        order = epoch_order(len(rows), seed, stage, epoch)
        if steps is not None:
            order = order[:steps * batch_size]
        return fit_inputs(rows[order], batch_size, pairs=pairs)

    def refresh_data(self):
        return self.x

    def subset(self, rows: np.ndarray) -> ArrayData:
        """The data of the rows at the indices `rows` (a split), trusted as checked."""
        x = self.x[rows]
        y = None if self.y is None else self.y[rows]
        return ArrayData(x, y, self.input_shape, array_sha256(x), self.scale, self.scaling)


class StreamData(TrainingData):
    """Training data streamed from shards, a block at a time (`ShardStream`)."""

    def __init__(self, stream, points, digest, scale, scaling):
        super().__init__(len(stream), stream.n_features, stream.input_shape, points, None,
                         digest, scale, scaling)
        self.stream = stream
        self._ordered = None

    def epoch_inputs(self, stage, epoch, batch_size, seed, steps=None, pairs=False, rows=None):
        if rows is not None:
            raise ValueError("A streamed run cannot feed rows of its own (augmentation needs "
                             "the data in memory).")
        transform = None
        if stage == "pretrain" and self.scaling is not None:
            def transform(block):
                return scale_features(block, self.scaling)
        return {"x": self.stream.dataset(batch_size, draw_key(seed, "order", stage, epoch),
                                         pairs=pairs, steps=steps, transform=transform)}

    def read_error(self):
        return self.stream.read_error

    def refresh_data(self):
        # One dataset object for the whole run: DEC then reuses each refresh's labels.
        if self._ordered is None:
            self._ordered = self.stream.ordered_dataset(1024)
        return self._ordered


def prepare_training_data(
    x: ArrayLike | ShardStream,
    n_clusters: int,
    y: ArrayLike | None = None,
    scale: str = "none",
    seed: int | None = None,
) -> TrainingData:
    """Checks `x` once and returns the `TrainingData` every stage trusts.

    Refuses, with the argument named: unscaled integers without `scale`
    (`check_scaled`), non-numeric or non-finite values, fewer rows (or
    distinct rows) than `n_clusters`, labels of the wrong shape, and `y`
    with a stream. Arrays are flattened to rows and kept as float32 without
    a copy when they already are; streams are read once (checked, hashed
    and, with `scale`, measured in the same pass).

    Args:
        x: array `(n_samples, ...)` or a `ShardStream`.
        n_clusters: int >= 1.
        y: optional labels of an array's rows.
        scale: "none", "minmax" or "standard".
        seed: int or None, for a stream's k-means sample.

    Examples:
        >>> data = prepare_training_data(np.eye(4, dtype="float32"), n_clusters=2)
        >>> data.shape, data.in_memory
        ((4, 4), True)
    """
    n_clusters = check_int("n_clusters", n_clusters, 1)
    scale = check_choice("scale", scale, SCALINGS)
    if isinstance(x, ShardStream):
        data = _stream_data(x, y, n_clusters, scale, seed)
    else:
        data = _array_data(x, y, n_clusters, scale)
    distinct = distinct_rows(data.points, n_clusters)
    if distinct < n_clusters:
        raise ValueError(
            f"`x` has fewer distinct rows than n_clusters={n_clusters}; DEC cannot find "
            f"that many clusters. Received: x with {distinct} distinct rows"
        )
    return data


def _stream_data(stream, y, n_clusters, scale, seed) -> StreamData:
    if y is not None:
        raise ValueError("`y` is not supported with a ShardStream (labels are for arrays). "
                         f"Received: y of type {type(y).__name__}")
    if len(stream) < n_clusters:
        raise ValueError(f"`x` must have at least n_clusters={n_clusters} samples. "
                         f"Received: a ShardStream of {len(stream)} rows")
    # One read of every row: checked, hashed and, for `scale`, measured.
    scaling = ScalingFit(scale)
    digest = stream.check(integers_allowed=scale != "none", visit=scaling.add)
    points = stream.sample(KMEANS_MAX_SAMPLES, seed)[1]
    return StreamData(stream, points, digest, scale, scaling.layer())


def _array_data(x, y, n_clusters, scale) -> ArrayData:
    if scale == "none":
        check_scaled(x, "x")
    x = check_features(x, "x", min_samples=n_clusters)
    input_shape = x.shape[1:]
    x = x.reshape(len(x), -1)
    if y is not None:
        y = np.asarray(y)
        if y.shape != (len(x),):
            raise ValueError(
                f"`y` must have one label per sample, shape ({len(x)},). "
                f"Received: y with shape {y.shape}"
            )
    return ArrayData(x, y, input_shape, array_sha256(x), scale, fit_scaling(x, scale))

