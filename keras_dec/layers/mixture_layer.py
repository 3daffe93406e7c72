"""A fixed Gaussian mixture's posterior as a layer: N2D's last step inside the model."""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from keras_dec.utils.validation import check_int


@keras.saving.register_keras_serializable(package="keras_dec")
class GaussianMixtureLayer(keras.layers.Layer):
    """Each embedding's posterior over the components of a full-covariance Gaussian mixture.

    For a mixture with weights pi_j, means mu_j and precision Cholesky
    factors L_j (scikit-learn's `precisions_cholesky_`, L_j L_j^T = Sigma_j^-1),

        log p(j | z) = log pi_j + sum(log diag L_j) - |L_j^T (z - mu_j)|^2 / 2 + const,

    normalised over j, exactly `GaussianMixture.predict_proba`. The mixture is
    fitted outside (scikit-learn) and set with `set_mixture`; its weights are
    not trainable. The layer is one matmul, a reshape and a softmax, so it
    exports to SavedModel and TFLite builtins like the rest of the model.

    Args:
        n_clusters: int >= 1, the mixture's components K.
        **kwargs: base layer keyword arguments (`name`, `dtype`).

    Call arguments:
        inputs: float tensor `(batch, D)`.

    Returns:
        Float tensor `(batch, n_clusters)`; each row sums to 1.

    Examples:
        >>> import numpy as np
        >>> from sklearn.mixture import GaussianMixture
        >>> z = np.random.default_rng(0).normal(size=(200, 2)) + np.repeat([[0, 0], [5, 5]], 100, 0)
        >>> gmm = GaussianMixture(2, covariance_type="full", random_state=0).fit(z)
        >>> layer = GaussianMixtureLayer(2)
        >>> layer.build((None, 2))
        >>> layer.set_mixture(gmm.means_, gmm.precisions_cholesky_, gmm.weights_)
        >>> bool(np.allclose(layer(z.astype("float32")), gmm.predict_proba(z), atol=1e-5))
        True
    """

    def __init__(self, n_clusters: int, **kwargs):
        super().__init__(**kwargs)
        self.n_clusters = check_int("n_clusters", n_clusters, 1)
        self.input_spec = keras.layers.InputSpec(ndim=2)

    def build(self, input_shape):
        dim = input_shape[-1]
        if dim is None:
            raise ValueError("The last dimension of the input to `GaussianMixtureLayer` must "
                             f"be known. Received: input_shape={input_shape}")
        k = self.n_clusters
        # `centers` (the means) keeps the name of `ClusteringLayer`'s weight, so
        # `DEC.cluster_centers_` reads either.
        self.centers = self.add_weight(shape=(k, dim), initializer="zeros", trainable=False,
                                       name="centers")
        self.precisions_cholesky = self.add_weight(
            shape=(k, dim, dim), trainable=False, name="precisions_cholesky",
            initializer=keras.initializers.Constant(np.tile(np.eye(dim), (k, 1, 1))))
        self.log_weights = self.add_weight(
            shape=(k,), trainable=False, name="log_weights",
            initializer=keras.initializers.Constant(-math.log(k)))
        self.input_spec = keras.layers.InputSpec(ndim=2, axes={-1: dim})

    def call(self, inputs):
        return ops.softmax(self.logits(inputs), axis=-1)

    def logits(self, inputs):
        """log pi_j + log N(z; mu_j, Sigma_j), up to a constant per row."""
        k, dim = self.n_clusters, self.centers.shape[1]
        chol = ops.cast(self.precisions_cholesky, inputs.dtype)
        # One matmul for every component: z @ [L_1 ... L_K], then minus mu_j @ L_j.
        stacked = ops.reshape(ops.transpose(chol, (1, 0, 2)), (dim, k * dim))
        projected = ops.reshape(ops.matmul(inputs, stacked), (-1, k, dim))
        shift = ops.sum(ops.expand_dims(ops.cast(self.centers, inputs.dtype), -1) * chol, axis=1)
        y = projected - ops.expand_dims(shift, 0)
        log_det = ops.sum(ops.log(ops.diagonal(chol, axis1=1, axis2=2)), axis=-1)
        return (ops.cast(self.log_weights, inputs.dtype) + log_det
                - 0.5 * ops.sum(ops.square(y), axis=-1))

    def set_mixture(self, means, precisions_cholesky, weights) -> None:
        """Sets the mixture from scikit-learn's `means_`, `precisions_cholesky_`, `weights_`."""
        k, dim = self.centers.shape
        means = np.asarray(means, dtype="float64")
        chol = np.asarray(precisions_cholesky, dtype="float64")
        weights = np.asarray(weights, dtype="float64")
        for name, value, shape in (("means", means, (k, dim)), ("weights", weights, (k,)),
                                   ("precisions_cholesky", chol, (k, dim, dim))):
            if value.shape != shape:
                raise ValueError(f"`{name}` must have shape {shape}. Received: {name} with "
                                 f"shape {value.shape}")
            if not np.all(np.isfinite(value)):
                raise ValueError(f"`{name}` must be finite. Received NaN or Inf.")
        if np.any(weights <= 0) or np.any(np.diagonal(chol, axis1=1, axis2=2) <= 0):
            raise ValueError("`weights` and the diagonals of `precisions_cholesky` must be "
                             "positive (a fitted full-covariance GaussianMixture's are).")
        self.centers.assign(means.astype("float32"))
        self.precisions_cholesky.assign(chol.astype("float32"))
        self.log_weights.assign(np.log(weights / weights.sum()).astype("float32"))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n_clusters)

    def get_config(self):
        return {**super().get_config(), "n_clusters": self.n_clusters}
