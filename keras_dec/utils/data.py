"""Input helpers shared by pretraining and DEC: arrays, and tf.data when TensorFlow is there."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import numpy as np
from keras import ops


def is_tf_dataset(data) -> bool:
    """Whether `data` is a `tf.data.Dataset`, without importing TensorFlow.

    On the JAX and PyTorch backends TensorFlow may be absent; a dataset can
    only exist if the user imported it.
    """
    tf = sys.modules.get("tensorflow")
    data_module = getattr(tf, "data", None)
    return data_module is not None and isinstance(data, data_module.Dataset)


def inputs_only(dataset):
    """Drops labels from `(x, y[, w])` elements; a dataset of `x` is returned as is."""
    if isinstance(dataset.element_spec, tuple):
        return dataset.map(lambda *e: e[0])
    return dataset


def iter_batches(data, batch_size: int) -> Iterator:
    """Yields backend tensors of `data`: slices of an array, or a dataset's batches in order."""
    if is_tf_dataset(data):
        for batch in data:  # via NumPy, so the same code serves every backend
            yield ops.convert_to_tensor(np.asarray(batch))
        return
    for start in range(0, len(data), batch_size):
        yield ops.convert_to_tensor(data[start:start + batch_size])
