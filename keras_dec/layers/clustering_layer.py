"""The DEC soft-assignment layer."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops
from numpy.typing import ArrayLike

from keras_dec.utils.validation import check_int, check_positive_float


@keras.saving.register_keras_serializable(package="keras_dec")
class ClusteringLayer(keras.layers.Layer):
    """Soft-assigns embeddings to cluster centres with a Student's t kernel.

    The layer holds the `K x D` matrix of cluster centres `mu` as its weight
    and returns, for each embedding `z_i`,

        q_ij = (1 + ||z_i - mu_j||^2 / alpha)^(-(alpha + 1) / 2) / sum_j' (...)

    computed in log space (a softmax over `-(alpha + 1)/2 * log(...)`) with a
    per-row rescaling, so rows stay finite and sum to 1 for any finite input.

    Args:
        n_clusters: int, the number of clusters `K` (>= 1; with 1, every
            point is in the one cluster and Q = 1).
        alpha: float, degrees of freedom of the Student's t kernel (> 0).
            The paper uses 1.0.
        initial_centers: optional array of shape `(n_clusters, D)` used as the
            initial centres; otherwise they start Glorot-uniform and are
            usually set later with `set_centers` (e.g. from k-means).
        **kwargs: base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: float tensor of shape `(batch, D)`.

    Returns:
        Float tensor of shape `(batch, n_clusters)`; each row sums to 1.

    Examples:
        >>> import numpy as np
        >>> layer = ClusteringLayer(n_clusters=2)
        >>> layer.build((None, 2))
        >>> layer.set_centers(np.array([[0.0, 0.0], [3.0, 4.0]]))
        >>> q = layer(np.array([[0.0, 0.0]], dtype="float32"))
        >>> [round(float(v), 4) for v in q[0]]
        [0.963, 0.037]

    Reference:
        Xie, Girshick & Farhadi, "Unsupervised Deep Embedding for Clustering
        Analysis", ICML 2016 (arXiv:1511.06335), eq. 1.
    """

    def __init__(self, n_clusters: int, alpha: float = 1.0,
                 initial_centers: ArrayLike | None = None, **kwargs):
        super().__init__(**kwargs)
        self.n_clusters = check_int("n_clusters", n_clusters, 1)
        self.alpha = check_positive_float("alpha", alpha)
        if initial_centers is not None:
            initial_centers = np.asarray(initial_centers, dtype="float32")
            if initial_centers.ndim != 2 or initial_centers.shape[0] != self.n_clusters:
                raise ValueError(
                    "`initial_centers` must have shape (n_clusters, embedding_dim) = "
                    f"({self.n_clusters}, D). Received: initial_centers with shape "
                    f"{initial_centers.shape}"
                )
            if not np.all(np.isfinite(initial_centers)):
                raise ValueError("`initial_centers` must be finite. Received NaN or Inf.")
        self.initial_centers = initial_centers
        self.input_spec = keras.layers.InputSpec(ndim=2)

    def build(self, input_shape):
        dim = input_shape[-1]
        if dim is None:
            raise ValueError(
                "The last dimension of the input to `ClusteringLayer` must be known. "
                f"Received: input_shape={input_shape}"
            )
        if self.initial_centers is not None and self.initial_centers.shape[1] != dim:
            raise ValueError(
                f"`initial_centers` has {self.initial_centers.shape[1]} columns but the "
                f"input has {dim} features. Received: input_shape={input_shape}"
            )
        initializer = (
            keras.initializers.Constant(self.initial_centers)
            if self.initial_centers is not None
            else "glorot_uniform"
        )
        self.centers = self.add_weight(
            shape=(self.n_clusters, dim), initializer=initializer, name="centers"
        )
        self.input_spec = keras.layers.InputSpec(ndim=2, axes={-1: dim})

    def call(self, inputs):
        return ops.softmax(self.logits(inputs), axis=-1)

    def logits(self, inputs):
        """Log of the unnormalised Student's t kernel, up to a per-row constant."""
        centers = ops.cast(self.centers, inputs.dtype)
        diff = ops.expand_dims(inputs, 1) - ops.expand_dims(centers, 0)
        # Rescale each row by its largest |difference| (never below 1) so the
        # squared distances cannot overflow float32 for huge inputs; the
        # log(scale^2) term is the same for every cluster and cancels in the
        # softmax.
        scale = ops.maximum(ops.max(ops.abs(diff), axis=(1, 2), keepdims=True), 1.0)
        scale = ops.stop_gradient(scale)
        dist = ops.sum(ops.square(diff / scale), axis=-1)
        base = dist + self.alpha / ops.square(ops.squeeze(scale, axis=-1))
        base = ops.maximum(base, np.finfo("float32").tiny)
        return -(self.alpha + 1.0) / 2.0 * ops.log(base)

    def set_centers(self, centers) -> None:
        """Sets the cluster centres from an array of shape `(n_clusters, D)`."""
        centers = np.asarray(centers, dtype="float32")
        expected = tuple(self.centers.shape)
        if centers.shape != expected:
            raise ValueError(
                f"`centers` must have shape {expected}. Received: centers with shape "
                f"{centers.shape}"
            )
        if not np.all(np.isfinite(centers)):
            raise ValueError("`centers` must be finite. Received an array with NaN or Inf.")
        self.centers.assign(centers)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n_clusters)

    def get_config(self):
        return {
            **super().get_config(),
            "n_clusters": self.n_clusters,
            "alpha": self.alpha,
            "initial_centers": (
                None if self.initial_centers is None else self.initial_centers.tolist()
            ),
        }
