"""DEC's auxiliary target distribution and its KL loss, as TensorFlow ops."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

_TINY = float(np.finfo("float32").tiny)


def target_distribution(q: tf.Tensor, frequencies: tf.Tensor) -> tf.Tensor:
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

    Example:

    >>> import numpy as np
    >>> q = np.array([[0.6, 0.4], [0.5, 0.5]], dtype="float32")
    >>> p = target_distribution(q, q.sum(axis=0))
    >>> [[round(float(v), 3) for v in row] for row in p]
    [[0.648, 0.352], [0.45, 0.55]]
    """
    q = tf.convert_to_tensor(q)
    frequencies = tf.cast(frequencies, q.dtype)
    log_weight = 2.0 * tf.math.log(tf.maximum(q, _TINY)) - tf.math.log(
        tf.maximum(frequencies, _TINY)
    )
    return tf.nn.softmax(log_weight, axis=-1)


def kl_divergence(p: tf.Tensor, log_q: tf.Tensor) -> tf.Tensor:
    """Per-sample KL(P || Q) = sum_j p_ij (log p_ij - log q_ij).

    Takes `log q` (e.g. a `log_softmax`) rather than `q` so that tiny
    probabilities keep exact gradients; `0 * log 0` counts as 0.

    Example:

    >>> import numpy as np
    >>> p = np.array([[0.5, 0.5]], dtype="float32")
    >>> float(kl_divergence(p, np.log(p))[0])
    0.0
    """
    p = tf.convert_to_tensor(p)
    return tf.reduce_sum(tf.math.xlogy(p, p) - p * log_q, axis=-1)
