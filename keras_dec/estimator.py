"""DEC as a scikit-learn clusterer: `fit`, `predict`, `transform`, `Pipeline`, `clone`, pickle."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from keras_dec.metrics import kl_to_target
from keras_dec.recipe import Recipe, idec_recipe, recipe_for
from keras_dec.utils.validation import check_int

# Every Recipe field is an estimator parameter of the same name (None: the
# value `recipe_for` picks for the data's shape).
# Every field but the image augmentation's: the estimator takes flat feature
# tables, with no image shape (augment images with `train_dec` or the CLI).
IMAGE_FIELDS = ("augment", "augment_shift", "augment_rotation", "backbone",
                "conv_filters")
RECIPE_FIELDS = tuple(f.name for f in dataclasses.fields(Recipe) if f.name not in IMAGE_FIELDS)


class DECClustering(ClusterMixin, TransformerMixin, BaseEstimator):
    """Deep Embedded Clustering with scikit-learn's estimator interface.

    `fit` runs `train_dec` (pretraining, k-means on the embeddings, DEC);
    `predict` assigns clusters, `transform` gives the embedding. Each
    parameter named like a `Recipe` field overrides that field of the recipe
    `recipe_for(n_samples, n_features)` picks (None keeps it).

    Every `Recipe` field but the image ones is a parameter of the same name
    (`dims`, `pretrain_method`, `pretrain_epochs`, `pretrain_learning_rate`,
    `pretrain_momentum`, `pretrain_schedule`, `pretrain_batch_size`,
    `batch_size`, `n_init`, `alpha`, `update_interval`, `tol`, `max_iter`,
    `learning_rate`, `momentum`, `pretrain_clipnorm`, `clustering`, `gamma`,
    `pretrain_optimizer`, `pretrain_min_steps`, `manifold` and its
    `manifold_*` settings, `init`); None keeps the value
    `recipe_for` picks. The image augmentation fields are left out: the
    estimator takes flat feature tables; augment images with `train_dec`.

    Args:
        n_clusters: int >= 1.
        scale: "none", "minmax" or "standard", as `train_dec(scale=...)`.
        device_loop: bool or None, as `train_dec(device_loop=...)`.
        n_runs: int, 1 or >= 3, as `train_dec(ensemble=...)`: train that many
            runs and keep the one that agrees most with the others (no labels).
        random_state: int, `numpy.random.RandomState` or None. An int fixes
            every random choice (weights, sample order, k-means).
        verbose: int, 0 silent, 1 Keras progress bars.

    Attributes:
        model_: the trained `DEC` (Keras) model.
        labels_: int32 `(n_samples,)`, the training data's clusters.
        cluster_centers_: `(n_clusters, embedding_dim)`, in the embedding.
        n_iter_: int, DEC steps taken.
        n_features_in_: int, features seen in `fit`.
        report_: dict, `train_dec`'s report (times, refreshes, label-free indices).

    Examples:
        >>> from sklearn.datasets import load_iris
        >>> from sklearn.pipeline import make_pipeline
        >>> from sklearn.preprocessing import MinMaxScaler
        >>> x = load_iris().data
        >>> model = make_pipeline(MinMaxScaler(), DECClustering(
        ...     n_clusters=3, pretrain_epochs=5, max_iter=20, random_state=0))
        >>> model.fit_predict(x).shape
        (150,)
    """

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        dims: Sequence[int] | None = None,
        pretrain_method: str | None = None,
        pretrain_epochs: int | None = None,
        pretrain_learning_rate: float | None = None,
        pretrain_momentum: float | None = None,
        pretrain_schedule: str | None = None,
        pretrain_batch_size: int | None = None,
        batch_size: int | None = None,
        n_init: int | None = None,
        alpha: float | None = None,
        update_interval: int | None = None,
        tol: float | None = None,
        max_iter: int | None = None,
        learning_rate: float | None = None,
        momentum: float | None = None,
        pretrain_clipnorm: float | None = None,
        clustering: str | None = None,
        gamma: float | None = None,
        pretrain_optimizer: str | None = None,
        pretrain_min_steps: int | None = None,
        manifold: str | None = None,
        manifold_neighbors: int | None = None,
        manifold_min_dist: float | None = None,
        manifold_widths: Sequence[int] | None = None,
        manifold_components: int | None = None,
        manifold_steps: int | None = None,
        manifold_batch_size: int | None = None,
        manifold_negatives: int | None = None,
        manifold_learning_rate: float | None = None,
        manifold_gradient_scale: float | None = None,
        init: str | None = None,
        scale: str = "none",
        device_loop: bool | None = None,
        n_runs: int = 1,
        random_state: int | None = None,
        verbose: int = 0,
    ):
        self.n_clusters = n_clusters
        self.dims = dims
        self.pretrain_method = pretrain_method
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_learning_rate = pretrain_learning_rate
        self.pretrain_momentum = pretrain_momentum
        self.pretrain_schedule = pretrain_schedule
        self.pretrain_batch_size = pretrain_batch_size
        self.batch_size = batch_size
        self.n_init = n_init
        self.alpha = alpha
        self.update_interval = update_interval
        self.tol = tol
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.pretrain_clipnorm = pretrain_clipnorm
        self.clustering = clustering
        self.gamma = gamma
        self.pretrain_optimizer = pretrain_optimizer
        self.pretrain_min_steps = pretrain_min_steps
        self.manifold = manifold
        self.manifold_neighbors = manifold_neighbors
        self.manifold_min_dist = manifold_min_dist
        self.manifold_widths = manifold_widths
        self.manifold_components = manifold_components
        self.manifold_steps = manifold_steps
        self.manifold_batch_size = manifold_batch_size
        self.manifold_negatives = manifold_negatives
        self.manifold_learning_rate = manifold_learning_rate
        self.manifold_gradient_scale = manifold_gradient_scale
        self.init = init
        self.scale = scale
        self.device_loop = device_loop
        self.n_runs = n_runs
        self.random_state = random_state
        self.verbose = verbose

    def recipe(self, n_samples: int, n_features: int) -> Recipe:
        """The recipe `fit` uses for data of this shape."""
        changes = {name: getattr(self, name) for name in RECIPE_FIELDS}
        for name in ("dims", "manifold_widths"):
            if changes[name] is not None:
                changes[name] = tuple(changes[name])
        base = recipe_for(n_samples, n_features)
        if changes["clustering"] == "idec":
            base = idec_recipe(base)  # IDEC's optimizer; learning_rate/momentum override it
        return base.replace(**changes)

    def _seed(self):
        if self.random_state is None or isinstance(self.random_state, (int, np.integer)):
            return None if self.random_state is None else int(self.random_state)
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    def fit(self, X, y=None):
        """Trains DEC on `X` (`y` is ignored); returns `self`."""
        from keras_dec.pipeline import train_dec

        # Integer dtypes are kept, so that `train_dec` applies its scaling rule
        # (unscaled integers need `scale`) exactly as for every other entry point.
        n_runs = check_int("n_runs", self.n_runs, 1)
        if n_runs == 2:
            raise ValueError("`n_runs` needs 3 runs or more to choose by agreement (two runs "
                             "agree with each other equally), or 1. Received: n_runs=2")
        X = validate_data(self, X, dtype="numeric", ensure_min_samples=2)
        if X.shape[0] < self.n_clusters:
            raise ValueError(
                f"n_samples={X.shape[0]} should be >= n_clusters={self.n_clusters}."
            )
        dec, report = train_dec(
            X, self.n_clusters, self.recipe(*X.shape), seed=self._seed(),
            verbose=self.verbose, device_loop=self.device_loop, scale=self.scale,
            ensemble=n_runs,
        )
        X = np.asarray(X, dtype="float32")
        self.model_ = dec
        self.report_ = report
        self.cluster_centers_ = dec.cluster_centers_
        self.labels_ = self._soft_assignments(dec.embed(X, check_input=False)).argmax(
            axis=1).astype("int32")
        self.n_iter_ = dec.n_iter_
        return self

    def _soft_assignments(self, z):
        # Q from the embedding in float64 NumPy, row by row: the same for a row
        # whatever else is in the batch (float32 kernels may differ by an ulp).
        z = np.asarray(z, dtype="float64")
        alpha = float(self.model_.alpha)
        d2 = np.sum((z[:, None, :] - self.cluster_centers_.astype("float64")) ** 2, axis=-1)
        q = (1.0 + d2 / alpha) ** (-(alpha + 1.0) / 2.0)
        return q / q.sum(axis=1, keepdims=True)

    def _validated(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return np.asarray(X, dtype="float32")

    def predict(self, X) -> np.ndarray:
        """The cluster of each row of `X`, int32 `(n_samples,)`."""
        return self.predict_proba(X).argmax(axis=1).astype("int32")

    def predict_proba(self, X) -> np.ndarray:
        """The soft assignments Q (Student's t kernel), `(n_samples, n_clusters)`."""
        return self._soft_assignments(self.transform(X))

    def transform(self, X) -> np.ndarray:
        """The embedding of each row of `X`, `(n_samples, embedding_dim)`."""
        X = self._validated(X)
        return self.model_.embed(X)

    def score(self, X, y=None) -> float:
        """Minus DEC's loss on `X`: the mean KL(P || Q), P the target built from X's own Q.

        Higher is better, as scikit-learn expects; 0 means every point is
        assigned with certainty. `y` is ignored.
        """
        return -kl_to_target(self.predict_proba(X))
