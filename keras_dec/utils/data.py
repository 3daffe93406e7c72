"""Small tf.data helpers shared by pretraining and DEC."""

from __future__ import annotations

import tensorflow as tf


def inputs_only(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """Drops labels from `(x, y[, w])` elements; a dataset of `x` is returned as is."""
    if isinstance(dataset.element_spec, tuple):
        return dataset.map(lambda *e: e[0])
    return dataset
