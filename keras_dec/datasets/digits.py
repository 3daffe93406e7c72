"""scikit-learn's bundled 8x8 digits: the no-download data set for demos and tests."""

from __future__ import annotations

import numpy as np


def load_digits(flatten: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 8x8 handwritten digits shipped with scikit-learn.

    Args:
        flatten: bool, `(n, 64)` if True, `(n, 8, 8, 1)` otherwise.

    Returns:
        `(x, y)`: float32 pixels in [0, 1] and int64 labels 0-9.

    Examples:
        >>> x, y = load_digits()
        >>> x.shape, x.dtype.name, float(x.max()), sorted(set(y.tolist())) == list(range(10))
        ((1797, 64), 'float32', 1.0, True)
    """
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    x = (bunch.data / 16.0).astype("float32")
    if not flatten:
        x = x.reshape(-1, 8, 8, 1)
    return x, bunch.target.astype("int64")
