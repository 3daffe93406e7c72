"""DEC's auxiliary target distribution and its KL loss, in `keras.ops` (any backend)."""

from __future__ import annotations

from typing import Any

import numpy as np
from keras import ops
from numpy.typing import ArrayLike

_TINY = float(np.finfo("float32").tiny)


def target_distribution(q: ArrayLike, frequencies: ArrayLike | None) -> Any:
    """The paper's target P from soft assignments Q (eq. 3).

        p_ij = (q_ij^2 / f_j) / sum_j' (q_ij'^2 / f_j'),   f_j = sum_i q_ij

    `frequencies` are the soft cluster frequencies `f_j`, summed over the whole
    data set (not the batch). The computation runs in log space with `f_j`
    floored at the smallest normal float, so an empty cluster (f_j = 0) and
    rows of underflowing `q` never produce NaN.

    Args:
        q: float tensor `(batch, K)`, rows summing to 1.
        frequencies: float tensor `(K,)`.

    Returns:
        Float tensor `(batch, K)`, rows summing to 1.

    Examples:
        >>> import numpy as np
        >>> q = np.array([[0.6, 0.4], [0.5, 0.5]], dtype="float32")
        >>> p = target_distribution(q, q.sum(axis=0))
        >>> [[round(float(v), 3) for v in row] for row in ops.convert_to_numpy(p)]
        [[0.648, 0.352], [0.45, 0.55]]
    """
    q = ops.convert_to_tensor(q)
    frequencies = ops.cast(frequencies, q.dtype)
    log_weight = 2.0 * ops.log(ops.maximum(q, _TINY)) - ops.log(ops.maximum(frequencies, _TINY))
    return ops.softmax(log_weight, axis=-1)


def kl_divergence(p: ArrayLike, log_q: ArrayLike) -> Any:
    """Per-sample KL(P || Q) = sum_j p_ij (log p_ij - log q_ij).

    Takes `log q` (e.g. a `log_softmax`) rather than `q` so that tiny
    probabilities keep exact gradients; `0 * log 0` counts as 0.

    Examples:
        >>> import numpy as np
        >>> p = np.array([[0.5, 0.5]], dtype="float32")
        >>> float(ops.convert_to_numpy(kl_divergence(p, np.log(p)))[0])
        0.0
    """
    p = ops.convert_to_tensor(p)
    log_q = ops.convert_to_tensor(log_q)
    # p * log(max(p, tiny)) is exactly 0 where p == 0, as xlogy.
    return ops.sum(p * ops.log(ops.maximum(p, _TINY)) - p * log_q, axis=-1)
