"""The Deep Embedded Clustering model: an encoder plus a `ClusteringLayer`."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from keras_dec.backend import DECTrainer, compile_function, predict_inputs
from keras_dec.callbacks.target_refresh import TargetRefresh
from keras_dec.layers.clustering_layer import ClusteringLayer
from keras_dec.layers.mixture_layer import GaussianMixtureLayer
from keras_dec.target_distribution import kl_divergence, target_distribution
from keras_dec.utils.data import inputs_only, is_tf_dataset, iter_batches
from keras_dec.utils.validation import (
    check_choice,
    check_features,
    check_fraction,
    check_int,
    check_positive_float,
    distinct_rows,
)


def _snapshot_layer(layer):
    """The target snapshot's copy of an encoder layer.

    Layers with weights get a fresh copy (their own weights); weightless ones
    are shared. Rebuilding those from their config would, for a `Lambda`,
    deserialize Python code, which Keras refuses in safe mode, although the
    user built that encoder in this very process.
    """
    if not layer.weights:
        return layer
    return layer.__class__.from_config(layer.get_config())


# How Q comes from the embedding: the paper's Student's t, or a fixed Gaussian mixture.
POSTERIORS = ("student_t", "gaussian_mixture")


@keras.saving.register_keras_serializable(package="keras_dec")
class DEC(DECTrainer, keras.Model):
    """Deep Embedded Clustering on top of any Keras encoder.

    `DEC` joins a functional encoder `z = f(x)` to a `ClusteringLayer` and
    trains both with `fit`: the custom `train_step` minimises KL(P || Q)
    between the soft assignments Q and the paper's target P, which is
    refreshed every `update_interval` training steps and held fixed in
    between. Training stops when fewer than `tol` of the points changed
    cluster between two refreshes.

    P is never materialised as an N x K array. At each refresh the model
    copies its weights into a frozen *target snapshot* (`target_encoder`,
    `target_clustering`) and accumulates the K soft frequencies f_j in one
    streaming pass over the data (the same pass counts label changes by
    comparing the new weights with the previous snapshot, so it needs no
    per-sample state either). Each training step recomputes p for its batch
    from the snapshot. Memory does not grow with N, the data can be a
    `tf.data` stream, and the snapshot is saved with the model, so a saved
    model resumes training exactly.

    It trains on the TensorFlow, JAX and PyTorch backends: the loss
    (`dec_loss`) is written once in `keras.ops`, and the step that applies it
    is the backend's own (`keras_dec/backend/<name>.py`). A model saved on
    one backend loads on any other.

    Args:
        encoder: `keras.Model` mapping inputs to embeddings `(batch, D)`,
            e.g. from `build_autoencoder`, or a convolutional model.
        n_clusters: int >= 1, the number of clusters K (1 is the trivial
            clustering, as scikit-learn's KMeans allows).
        alpha: float > 0, Student's t degrees of freedom (paper: 1.0).
        update_interval: int >= 1, training steps between target refreshes
            (the reference Keras port: 140 for MNIST-sized data).
        tol: float in [0, 1], stop when the fraction of points that changed
            cluster between refreshes is below it (paper: 0.001).
        refresh_batch_size: int >= 1, batch size of the refresh and predict
            passes over NumPy data.
        augmentation: optional Keras layer applied to each training batch
            before the encoder, e.g. `ImageAugmentation` (DEC-DA, Guo et al.
            2018): Q comes from the augmented batch, the target P from the
            clean one (through the snapshot). Not used by `predict`, the
            refresh or the exported graphs.
        posterior: "student_t" (default, the paper: Q from the trainable
            `ClusteringLayer`) or "gaussian_mixture": Q is the posterior of
            a fixed full-covariance Gaussian mixture fitted on the
            embeddings by `initialize_centers(method="gmm")`
            (`GaussianMixtureLayer`, N2D's last step as a layer). Such a
            model is not trained with KL (`fit` refuses); it predicts,
            saves and exports like any other.
        **kwargs: base `keras.Model` keyword arguments (`name`).

    Call arguments:
        inputs: a batch of the encoder's inputs.

    Returns:
        The soft assignments Q, float `(batch, n_clusters)`.

    Examples:
        >>> import numpy as np, keras
        >>> from keras_dec import DEC, build_autoencoder
        >>> x = np.random.default_rng(0).random((64, 8)).astype("float32")
        >>> _, encoder = build_autoencoder(8, dims=(16, 4))
        >>> dec = DEC(encoder, n_clusters=3, update_interval=4)
        >>> _ = dec.initialize_centers(x, seed=0)
        >>> dec.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9))
        >>> history = dec.fit(x, batch_size=16, epochs=2, verbose=0)
        >>> dec.predict_clusters(x).shape
        (64,)

    Reference:
        Xie, Girshick & Farhadi, "Unsupervised Deep Embedding for Clustering
        Analysis", ICML 2016 (arXiv:1511.06335).
    """

    def __init__(
        self,
        encoder: keras.Model,
        n_clusters: int,
        alpha: float = 1.0,
        update_interval: int = 140,
        tol: float = 1e-3,
        refresh_batch_size: int = 1024,
        augmentation: keras.layers.Layer | None = None,
        posterior: str = "student_t",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(encoder, keras.Model):
            raise TypeError(
                "`encoder` must be a keras.Model mapping inputs to embeddings. "
                f"Received: encoder of type {type(encoder).__name__}"
            )
        try:
            output_shape = encoder.output_shape
        except (AttributeError, ValueError):
            output_shape = None
        if not isinstance(output_shape, tuple) or len(output_shape) != 2 or not output_shape[1]:
            raise ValueError(
                "`encoder` must be a built model (functional, or Sequential with an `Input`) "
                "with a single output of shape (batch, embedding_dim). Received: encoder "
                f"with output shape {output_shape}"
            )
        self.encoder = encoder
        self.n_clusters = check_int("n_clusters", n_clusters, 1)
        self.alpha = check_positive_float("alpha", alpha)
        self.update_interval = check_int("update_interval", update_interval, 1)
        self.tol = check_fraction("tol", tol)
        self.refresh_batch_size = check_int("refresh_batch_size", refresh_batch_size, 1)
        if augmentation is not None and not isinstance(augmentation, keras.layers.Layer):
            raise TypeError(
                "`augmentation` must be a Keras layer (e.g. `ImageAugmentation`) or None. "
                f"Received: augmentation of type {type(augmentation).__name__}"
            )
        self.augmentation = augmentation

        embedding_dim = output_shape[1]
        self.posterior = check_choice("posterior", posterior, POSTERIORS)
        if self.posterior == "gaussian_mixture":
            self.clustering = GaussianMixtureLayer(self.n_clusters, name="clustering")
        else:
            self.clustering = ClusteringLayer(self.n_clusters, alpha=self.alpha,
                                              name="clustering")
        self.clustering.build((None, embedding_dim))
        # The frozen snapshot that defines the current target P.
        self.target_encoder = keras.models.clone_model(encoder, clone_function=_snapshot_layer)
        self.target_encoder.trainable = False
        self.target_clustering = ClusteringLayer(
            self.n_clusters, alpha=self.alpha, name="target_clustering"
        )
        self.target_clustering.build((None, embedding_dim))
        self.target_clustering.trainable = False

        def state(name, dtype, value):
            return self.add_weight(
                shape=(), dtype=dtype, initializer=keras.initializers.Constant(value),
                trainable=False, name=name,
            )

        self.cluster_frequencies = self.add_weight(
            shape=(self.n_clusters,), initializer="ones", trainable=False,
            name="cluster_frequencies",
        )
        self.train_steps = state("train_steps", "int32", 0)
        self.last_refresh_step = state("last_refresh_step", "int32", 0)
        self.target_refreshes = state("target_refreshes", "int32", 0)
        self.label_change = state("label_change", "float32", 1.0)
        self.converged = state("converged", "bool", False)
        self.centers_initialized = state("centers_initialized", "bool", False)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.refresh_log_: list[dict] = []
        self._refresh_fn = None
        self._label_cache = None
        self.built = True

    # -- Keras API ---------------------------------------------------------

    def call(self, inputs, training=None):
        return self.clustering(self.encoder(inputs, training=training))

    @property
    def metrics(self):
        return [self.loss_tracker]

    def compile(self, optimizer=None, **kwargs):
        """Like `keras.Model.compile`; the optimizer defaults to the paper's SGD(0.01, 0.9).

        The loss is always DEC's KL(P || Q); a `loss` argument is refused.
        """
        if kwargs.get("loss") is not None:
            raise ValueError(
                "`DEC` trains with its own KL(P || Q) loss; do not pass `loss`. "
                f"Received: loss={kwargs['loss']!r}"
            )
        if optimizer is None:
            optimizer = keras.optimizers.SGD(learning_rate=0.01, momentum=0.9)
        super().compile(optimizer=optimizer, **kwargs)

    def compile_from_config(self, config):
        # Restores the optimizer (and its state) when a saved model is loaded,
        # so a loaded model can keep training.
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        self.optimizer.build(self.trainable_variables)

    def dec_loss(self, x, training=False, replicas=1):
        """DEC's loss on a batch: `(loss, per_sample)`, in backend-neutral `keras.ops`.

        P comes from the frozen target snapshot and the data-set frequencies
        f_j (no gradient flows into it); Q from the live encoder and centres.
        `loss` is the batch's summed KL divided by the global batch
        (`replicas` x batch), plus any layer losses, so that gradients summed
        over replicas equal a single-device step's.
        """
        q_target = self.target_clustering(self.target_encoder(x, training=False))
        p = ops.stop_gradient(target_distribution(q_target, self.cluster_frequencies))
        if training and self.augmentation is not None:
            x = self.augmentation(x, training=True)  # Q from the augmented batch (DEC-DA)
        z = self.encoder(x, training=training)
        log_q = ops.log_softmax(self.clustering.logits(z), axis=-1)
        per_sample = self.sample_loss(x, z, kl_divergence(p, log_q), training=training)
        global_batch = ops.cast(ops.shape(per_sample)[0] * replicas, per_sample.dtype)
        loss = ops.sum(per_sample) / global_batch
        if self.losses:
            loss = loss + ops.sum(ops.stack(self.losses)) / replicas
        return loss, per_sample

    def sample_loss(self, x, z, kl, training=False):
        """Each sample's loss from its input, embedding and KL(p || q): DEC's is the KL.

        Subclasses add terms here (`IDEC`: the reconstruction error); the
        step, the refresh and the stopping rule stay DEC's.
        """
        return kl

    def dec_update_state(self, per_sample, count_step=True):
        """Counts the step and updates the loss metric; returns the step's logs."""
        if count_step:
            self.train_steps.assign_add(1)
        self.loss_tracker.update_state(per_sample)
        logs = {"loss": self.loss_tracker.result()}
        if count_step:
            logs["label_change"] = ops.convert_to_tensor(self.label_change)
        return logs

    def fit(self, x=None, y=None, batch_size=None, epochs=1, callbacks=None, target_data=None,
            target_data_ordered=False, refresh_verbose=0, refresh_labels=None,
            check_input=True, **kwargs):
        """Trains with `model.fit` semantics; refreshes P and stops at `tol`.

        Args:
            x: float array, or a finite batched `tf.data.Dataset` of inputs
                (or `(inputs, labels)`; labels are ignored).
            y: must be None (DEC is unsupervised).
            batch_size, epochs, callbacks, **kwargs: as in `keras.Model.fit`.
            target_data: optional float array or finite batched
                `tf.data.Dataset` used for the refresh passes; defaults to
                `x` (for an infinite or repeated training stream, or a
                training array that is a shuffled or partial copy of the
                data, pass the whole data set here, in a fixed order).
            target_data_ordered: bool, `target_data` yields the same samples
                in the same order at every pass (see `refresh_target`).
                Always true for NumPy `x` without `target_data`.
            refresh_verbose: int, 1 prints a line at each target refresh.
            refresh_labels: optional true labels of the refresh data (in its
                fixed order), only to record ACC at each refresh
                (`history.refreshes`); never used for training.
            check_input: bool, check array `x` and `target_data` (numbers,
                finite, the encoder's input shape). `train_dec` passes False
                for data it checked once on entry.

        Returns:
            The `History`; `history.history` holds `loss` (KL) and
            `label_change` per epoch, and `history.refreshes` one record per
            target refresh (`step`, `label_change`, `loss`).
        """
        if y is not None:
            raise ValueError(
                "`DEC.fit` is unsupervised and takes no targets. Received: y of type "
                f"{type(y).__name__}"
            )
        if self.posterior == "gaussian_mixture":
            raise ValueError("A DEC with posterior='gaussian_mixture' is a fixed mixture's "
                             "posterior, not trained with KL; build it with "
                             "posterior='student_t' to train. Received: fit on posterior="
                             "'gaussian_mixture'")
        self._check_initialized()
        if is_tf_dataset(x):
            self._check_dataset(x, "x")
            refresh_data, ordered = inputs_only(x), False
        else:
            # Arrays are refreshed in their own (fixed) order, whatever `shuffle` does.
            if check_input:
                x = self._check_array(x)
            refresh_data, ordered = x, True
        if target_data is not None:
            if is_tf_dataset(target_data):
                self._check_dataset(target_data, "target_data")
                refresh_data = inputs_only(target_data)
                ordered = bool(target_data_ordered)
            else:
                refresh_data = (self._check_array(target_data, name="target_data")
                                if check_input else target_data)
                ordered = True
        infinite = -1  # tf.data.INFINITE_CARDINALITY
        if is_tf_dataset(refresh_data) and int(refresh_data.cardinality()) == infinite:
            raise ValueError(
                "The target refresh needs one finite pass over the data, but the dataset "
                "repeats forever. Pass `target_data=` with one epoch of the data."
            )
        refresher = TargetRefresh(refresh_data, verbose=refresh_verbose, ordered=ordered,
                                  labels=refresh_labels)
        callbacks = [refresher] + list(callbacks or [])
        if self.steps_per_execution > 1:
            raise ValueError(
                "`DEC` refreshes its target between steps and needs "
                f"`steps_per_execution=1`. Received: steps_per_execution={self.steps_per_execution}"
            )
        history = super().fit(x, batch_size=batch_size, epochs=epochs, callbacks=callbacks,
                              **kwargs)
        history.refreshes = refresher.records
        self.refresh_log_.extend(refresher.records)
        return history

    def predict(self, x, batch_size=None, check_input=True, **kwargs):
        """Soft assignments Q for `x`, as `keras.Model.predict` (`check_input` as in `fit`)."""
        self._check_initialized()
        if is_tf_dataset(x):
            self._check_dataset(x, "x")
            return super().predict(x, **kwargs)
        if check_input:
            x = self._check_array(x, min_samples=1)
        return super().predict(**predict_inputs(x, batch_size or self.refresh_batch_size),
                               **kwargs)

    # -- DEC API -----------------------------------------------------------

    def initialize_centers(self, x, n_init: int = 20, seed: int | None = None,
                           batch_size: int | None = None, check_input: bool = True,
                           method: str = "kmeans") -> DEC:
        """Sets the centres by k-means (scikit-learn, `n_init` restarts) on the embeddings.

        With `method="gmm"`, the centres are the means of a full-covariance
        Gaussian mixture (scikit-learn, `n_init` restarts, k-means
        initialised) and `initial_labels_` its most likely components.

        Also resets the target so that the next `fit` starts with a refresh.
        With `posterior="gaussian_mixture"`, `method` must be "gmm": the
        whole mixture (means, covariances, weights) becomes the posterior.

        Args:
            x: float array or batched `tf.data.Dataset` of inputs.
            n_init: int, k-means restarts (paper and reference port: 20).
            seed: int or None, the k-means random state.
            batch_size: int, batch size of the embedding pass.
            check_input: bool, check an array `x` (see `fit`).

        Returns:
            `self`; `self.initial_labels_` holds the k-means labels.
        """
        from sklearn.cluster import KMeans

        n_init = check_int("n_init", n_init, 1)
        embeddings = self.embed(x, batch_size=batch_size, check_input=check_input)
        if embeddings.shape[0] < self.n_clusters:
            raise ValueError(
                f"`x` must have at least n_clusters={self.n_clusters} samples. "
                f"Received: x with {embeddings.shape[0]} samples"
            )
        if not np.all(np.isfinite(embeddings)):
            raise ValueError(
                "The encoder produced NaN or Inf embeddings for `x`; check the encoder "
                "weights (did pretraining diverge?)."
            )
        distinct = distinct_rows(embeddings, self.n_clusters)
        if distinct < self.n_clusters:
            raise ValueError(
                f"`x` has only {distinct} distinct embedding(s), fewer than "
                f"n_clusters={self.n_clusters}. Received: x with {embeddings.shape[0]} samples"
            )
        method = check_choice("method", method, ("kmeans", "gmm"))
        if self.posterior == "gaussian_mixture" and method != "gmm":
            raise ValueError("A DEC with posterior='gaussian_mixture' is initialised by its "
                             f"mixture: pass method='gmm'. Received: method={method!r}")
        if method == "gmm":
            from sklearn.mixture import GaussianMixture

            mixture = GaussianMixture(self.n_clusters, covariance_type="full", n_init=n_init,
                                      random_state=seed).fit(embeddings)
            self.initial_labels_ = mixture.predict(embeddings).astype("int32")
            if self.posterior == "gaussian_mixture":
                self.clustering.set_mixture(mixture.means_, mixture.precisions_cholesky_,
                                            mixture.weights_)
            else:
                self.clustering.set_centers(mixture.means_)
        else:
            kmeans = KMeans(self.n_clusters, n_init=n_init, random_state=seed)
            self.initial_labels_ = kmeans.fit_predict(embeddings).astype("int32")
            self.clustering.set_centers(kmeans.cluster_centers_)
        self.centers_initialized.assign(True)
        self.target_refreshes.assign(0)
        self.converged.assign(False)
        return self

    def embed(self, x, batch_size: int | None = None, check_input: bool = True) -> np.ndarray:
        """The encoder's embeddings of `x`, as a NumPy array (`check_input` as in `fit`)."""
        if not is_tf_dataset(x):
            if check_input:
                x = self._check_array(x, min_samples=1)
        else:
            self._check_dataset(x, "x")
            x = inputs_only(x)
            return np.asarray(self.encoder.predict(x, verbose=0))
        return np.asarray(self.encoder.predict(
            **predict_inputs(x, batch_size or self.refresh_batch_size), verbose=0))

    def predict_clusters(self, x, batch_size: int | None = None,
                         check_input: bool = True) -> np.ndarray:
        """Hard cluster ids (argmax of Q), int32 `(n_samples,)` (`check_input` as in `fit`)."""
        q = self.predict(x, batch_size=batch_size, verbose=0, check_input=check_input)
        return np.argmax(q, axis=1).astype("int32")

    def set_centers(self, centers) -> None:
        """Sets the cluster centres, `(n_clusters, embedding_dim)`, and marks them ready.

        As after `initialize_centers`, the next `fit` starts with a target
        refresh and the model no longer counts as converged.
        """
        if self.posterior == "gaussian_mixture":
            raise ValueError("A DEC with posterior='gaussian_mixture' takes a whole mixture: "
                             "use `initialize_centers(x, method='gmm')` or "
                             "`clustering.set_mixture(...)`. Received: set_centers")
        self.clustering.set_centers(centers)
        self.centers_initialized.assign(True)
        self.target_refreshes.assign(0)
        self.converged.assign(False)

    @property
    def cluster_centers_(self) -> np.ndarray:
        """The current centres, `(n_clusters, embedding_dim)`."""
        return np.asarray(self.clustering.centers)

    @property
    def refresh_labels_(self) -> np.ndarray | None:
        """Every point's cluster at the last refresh over ordered data, else None."""
        return None if self._label_cache is None else self._label_cache["labels"]

    @property
    def n_iter_(self) -> int:
        """Training steps taken so far."""
        return int(self.train_steps.numpy())

    @property
    def converged_(self) -> bool:
        """Whether the last `fit` stopped because the label change fell below `tol`."""
        return bool(self.converged.numpy())

    def refresh_target(self, data, ordered: bool = False) -> float | None:
        """Recomputes the target from the current weights in one pass over `data`.

        Accumulates the soft frequencies f_j, counts the points whose cluster
        differs from the previous snapshot's, then copies the current weights
        into the snapshot. Returns the label-change fraction, or None at the
        first refresh (nothing to compare with). Each batch is one compiled
        call on the backend (`tf.function`, `jax.jit`, or eager PyTorch
        without autograd); only K sums, a count and the labels come back.

        The previous snapshot's labels are recomputed in the same pass (a
        second forward pass), which works for any stream, shuffled or not.
        With `ordered=True` the caller promises that `data` yields the same
        samples in the same order at every pass (e.g. an unshuffled array);
        the labels of the previous pass are then kept (4 bytes per sample)
        and reused instead of the second forward pass.

        Args:
            data: float array (batched by `refresh_batch_size`) or a finite
                batched `tf.data.Dataset` of inputs.
            ordered: bool, see above.
        """
        if self._refresh_fn is None:
            self._refresh_fn = compile_function(self, self._refresh_batch)
        refreshes = int(self.target_refreshes.numpy())
        first = refreshes == 0
        cache = self._label_cache
        use_cache = (
            ordered and not first and cache is not None and cache["data"] is data
            and cache["refresh"] == refreshes
        )
        compare = not (first or use_cache)
        # The per-batch results stay on the device until the pass ends: one
        # transfer each, instead of a host round trip per batch.
        sums, counts, labels = [], [], []
        for batch in iter_batches(data, self.refresh_batch_size):
            f, c, bad, batch_labels = self._refresh_fn(batch, compare)
            sums.append(f)
            counts.append(ops.stack([c, bad]))
            labels.append(batch_labels)
        total = sum(int(batch_labels.shape[0]) for batch_labels in labels)
        if total == 0:
            raise ValueError("The data for the target refresh is empty (0 samples).")
        frequencies = np.zeros(self.n_clusters, dtype="float64")
        for f in ops.convert_to_numpy(ops.stack(sums)):
            frequencies += f  # in float64, batch by batch
        changed, nonfinite = (int(v) for v in ops.convert_to_numpy(ops.stack(counts)).sum(0))
        # Q itself stays finite for NaN embeddings (its rescaling takes a max), so
        # the embeddings are checked: NaN input or NaN weights must not pass silently.
        if nonfinite or not np.all(np.isfinite(frequencies)):
            raise FloatingPointError(
                f"The embeddings or soft assignments became NaN or Inf at DEC step "
                f"{int(self.train_steps.numpy())} ({nonfinite} non-finite embedding values): "
                "the data holds NaN/Inf, or the encoder or centre weights are no longer finite "
                "(a learning rate too high). Training stopped."
            )
        if ordered:
            labels = ops.convert_to_numpy(ops.concatenate(labels))
            if use_cache:
                if len(labels) != len(cache["labels"]):
                    raise ValueError(
                        "`data` passed with ordered=True changed size between refreshes "
                        f"({len(cache['labels'])} then {len(labels)} samples)."
                    )
                changed = int(np.count_nonzero(labels != cache["labels"]))
            self._label_cache = {"data": data, "refresh": refreshes + 1, "labels": labels}
        else:
            self._label_cache = None
        # A copy, not the live buffer: on JAX the next step donates the live one.
        for target, source in zip(self.target_encoder.weights, self.encoder.weights, strict=True):
            target.assign(ops.copy(source.value))
        self.target_clustering.centers.assign(ops.copy(self.clustering.centers.value))
        self.cluster_frequencies.assign(frequencies.astype("float32"))
        self.target_refreshes.assign_add(1)
        self.last_refresh_step.assign(int(self.train_steps.numpy()))
        change = None if first else changed / total
        self.label_change.assign(1.0 if change is None else change)
        return change

    def _refresh_batch(self, x, compare):
        z = self.encoder(x, training=False)
        nonfinite = ops.sum(ops.cast(ops.logical_not(ops.isfinite(z)), "int32"))
        q = self.clustering(z)
        labels = ops.cast(ops.argmax(q, axis=-1), "int32")
        if compare:
            old = self.target_clustering(self.target_encoder(x, training=False))
            old_labels = ops.cast(ops.argmax(old, axis=-1), "int32")
            changed = ops.sum(ops.cast(ops.not_equal(labels, old_labels), "int32"))
        else:
            changed = ops.zeros((), "int32")
        return ops.sum(q, axis=0), changed, nonfinite, labels

    # -- checks and config -------------------------------------------------

    def _check_initialized(self):
        if not bool(self.centers_initialized.numpy()):
            raise ValueError(
                "The cluster centres are not initialised. Call "
                "`initialize_centers(x)` (k-means on the embeddings) or `set_centers(...)` "
                "before `fit`/`predict`."
            )

    def _check_array(self, x, min_samples=None, name="x"):
        return check_features(
            x,
            name,
            n_features=tuple(self.encoder.input_shape[1:]),
            min_samples=self.n_clusters if min_samples is None else min_samples,
        )

    def _check_dataset(self, dataset, name):
        spec = dataset.element_spec
        spec = spec[0] if isinstance(spec, tuple) else spec
        expected = tuple(self.encoder.input_shape[1:])
        shape = getattr(spec, "shape", None)
        if shape is None or tuple(shape[1:]) != expected:
            raise ValueError(
                f"`{name}` must yield batches of shape (batch, {', '.join(map(str, expected))}) "
                f"to match the encoder's input. Received: element_spec={dataset.element_spec}"
            )
        if dataset.cardinality() == 0:
            raise ValueError(f"`{name}` is an empty dataset (cardinality 0).")

    def get_config(self):
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "n_clusters": self.n_clusters,
            "alpha": self.alpha,
            "update_interval": self.update_interval,
            "tol": self.tol,
            "refresh_batch_size": self.refresh_batch_size,
            "augmentation": keras.saving.serialize_keras_object(self.augmentation),
            "posterior": self.posterior,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        # None for models saved without augmentation, or before the option existed.
        config["augmentation"] = keras.saving.deserialize_keras_object(config.get("augmentation"))
        return cls(**config)
