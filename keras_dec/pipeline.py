"""The end-to-end DEC pipeline behind `keras-dec train`, resumable after a kill."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
import time
from collections.abc import Sequence

import keras
import numpy as np
from numpy.typing import ArrayLike

from keras_dec.backbones.autoencoder import build_autoencoder, decoder_of, encoder_of
from keras_dec.backbones.conv_autoencoder import build_conv_autoencoder, conv_image_shape
from keras_dec.backbones.pretraining import pretrain_autoencoder
from keras_dec.backbones.scaling import SCALINGS, ScalingFit, fit_scaling, with_scaling
from keras_dec.backbones.scaling import scale as scale_features
from keras_dec.backend import DeviceLoop, enable_determinism, fit_inputs
from keras_dec.callbacks.target_refresh import TargetRefresh
from keras_dec.datasets.image_shapes import image_shape_of
from keras_dec.datasets.shard_stream import ShardStream
from keras_dec.layers.image_augmentation import ImageAugmentation
from keras_dec.metrics import evaluate_clustering, label_free_indices
from keras_dec.models.dec import DEC
from keras_dec.models.idec import IDEC
from keras_dec.recipe import Recipe, recipe_for
from keras_dec.saving import load_model
from keras_dec.utils import atomic
from keras_dec.utils.fingerprint import array_sha256
from keras_dec.utils.folder_lock import exclusive_folder
from keras_dec.utils.validation import (
    check_choice,
    check_features,
    check_int,
    check_scaled,
    distinct_rows,
)
from keras_dec.version import __version__

CHECKPOINTS = "checkpoints"
# A `ShardStream` larger than this is k-means-initialised (and scored by the
# label-free report) on a seeded uniform sample of this many rows; at or
# below it, on every row, as an array is.
KMEANS_MAX_SAMPLES = 100_000
# The names `_Checkpoints.save` gives model files: `<stem>-<stage>-<epoch>.keras`.
_CHECKPOINT_NAME = re.compile(r"(autoencoder|dec)-(pretrain|dec)-\d{6}\.keras")


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or Inf."""


class _StopOnNonFinite(keras.callbacks.Callback):
    """Stops at the end of an epoch whose loss is NaN or Inf, before it is checkpointed.

    The logged loss is the epoch's running mean, so one non-finite step keeps
    it non-finite: checking once per epoch catches it without a host round
    trip per step (which would stall an accelerator).
    """

    def __init__(self, stage):
        super().__init__()
        self.stage = stage

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(float(loss)):
            step = int(self.model.optimizer.iterations.numpy())
            raise NonFiniteLossError(
                f"The {self.stage} loss became {float(loss)} in epoch {epoch + 1} (by step "
                f"{step}). Training stopped; the last checkpoint (if any) is intact. "
                "Lower the learning rate or check the data scaling."
            )


class _Progress(keras.callbacks.ProgbarLogger):
    """Keras' progress bar showing the stage's true epoch total ("Epoch 77/300").

    The pipeline runs one `fit` per epoch so it can checkpoint and resume;
    a plain progress bar would show "Epoch 77/77".
    """

    def __init__(self, total_epochs):
        super().__init__()
        self.total_epochs = total_epochs

    def set_params(self, params):
        super().set_params(params)
        self.epochs = self.total_epochs


def _epoch_order(n: int, seed: int | None, stage: str, epoch: int) -> np.ndarray:
    """The sample order of one epoch, a function of (seed, stage, epoch) only.

    Shuffling this way (instead of Keras' stateful shuffle) makes a run that
    was killed and resumed at an epoch boundary see exactly the batches an
    uninterrupted run sees.
    """
    if seed is None:
        return np.random.default_rng().permutation(n)
    key = [seed, 0 if stage == "pretrain" else 1, epoch]
    return np.random.default_rng(key).permutation(n)


class _Checkpoints:
    """Checkpoints in `<output>/checkpoints/`: epoch-numbered model files and a state JSON.

    One checkpoint is one atomic unit: the model is written first, under a
    new name (`dec-dec-000012.keras`), then `state.json` is replaced, naming
    that file; only then are older model files deleted. A kill at any point
    leaves a state that names a complete model of the same epoch (an orphan
    newer model file is removed at the next start).
    """

    def __init__(self, output, identity):
        self.folder = None if output is None else os.path.join(os.fspath(output), CHECKPOINTS)
        self.identity = identity
        self.state = {"stage": "start", "epoch": 0, "identity": identity, "report": {}}

    def path(self, name):
        return os.path.join(self.folder, name)

    def model_path(self, stem):
        """The checkpoint file of `stem` ("autoencoder" or "dec") that the state names."""
        name = self.state.get("files", {}).get(stem)
        if name is None:
            raise ValueError(
                f"Checkpoint state {self.path('state.json')!r} names no {stem} checkpoint "
                "(written by an older keras-dec?); rerun with --fresh to start over."
            )
        return self.path(name)

    def _remove_unreferenced_models(self):
        keep = set(self.state.get("files", {}).values())
        for name in os.listdir(self.folder):
            if _CHECKPOINT_NAME.fullmatch(name) and name not in keep:
                os.remove(self.path(name))

    def load(self, fresh):
        if self.folder is None:
            return
        state_path = self.path("state.json")
        if fresh and os.path.isdir(self.folder):
            shutil.rmtree(self.folder)
        # A run killed mid-write leaves its temporary files behind.
        atomic.remove_leftovers(self.folder)
        atomic.remove_leftovers(os.path.dirname(self.folder))
        if not os.path.isfile(state_path):
            return
        try:
            with open(state_path, encoding="utf-8") as f:
                state = json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            raise ValueError(f"Checkpoint state {state_path!r} is unreadable ({e}); "
                             "rerun with --fresh to start over.") from None
        if not isinstance(state, dict) or not {"stage", "epoch", "identity", "report"} <= set(
            state
        ):
            raise ValueError(f"Checkpoint state {state_path!r} is not a keras-dec state file; "
                             "rerun with --fresh to start over.")
        if state.get("identity") != self.identity:
            raise ValueError(
                f"{self.folder!r} holds checkpoints of a different run (other data, seed or "
                "recipe). Use another --output folder, or --fresh to discard them."
            )
        self.state = state
        # A kill between writing a model file and the state naming it leaves an orphan.
        self._remove_unreferenced_models()

    def save(self, stage, epoch, model=None, stem=None):
        if self.folder is None:
            return
        os.makedirs(self.folder, exist_ok=True)
        if model is not None:
            name = f"{stem}-{stage}-{epoch:06d}.keras"
            atomic.save_model(model, self.path(name))
            self.state.setdefault("files", {})[stem] = name
        self.state.update(stage=stage, epoch=epoch)
        atomic.write_json(self.path("state.json"), self.state)
        self._remove_unreferenced_models()


def _load_checkpoint(path, kind=keras.Model):
    try:
        model = load_model(path)
    except (ValueError, FileNotFoundError) as e:
        raise ValueError(f"{e} Rerun with --fresh to start over.") from None
    if not isinstance(model, kind):
        raise ValueError(
            f"{path!r} holds a {type(model).__name__}, not the {kind.__name__} this run "
            "checkpointed. Rerun with --fresh to start over."
        )
    return model


@dataclasses.dataclass(frozen=True)
class _Data:
    """The checked training data, as `train_dec` goes on with it."""

    x: np.ndarray | None  # flat float rows; None for a stream
    stream: ShardStream | None
    y: np.ndarray | None
    points: np.ndarray  # rows for k-means: all of `x`, or a stream's sample
    input_shape: list[int]  # one sample's shape before flattening (predict, export)
    shape: tuple[int, int]  # (n_samples, n_features)
    digest: str  # SHA-256 of the data, so a resumed run can tell it changed
    device_loop: bool
    scaling: keras.layers.Normalization | None


def _stream_data(stream, y, n_clusters, device_loop, scale, seed) -> _Data:
    if y is not None:
        raise ValueError("`y` is not supported with a ShardStream (labels are for arrays). "
                         f"Received: y of type {type(y).__name__}")
    if device_loop:
        raise ValueError("`device_loop=True` needs the data on the device; a ShardStream "
                         "streams it. Received: device_loop=True with a ShardStream")
    if len(stream) < n_clusters:
        raise ValueError(f"`x` must have at least n_clusters={n_clusters} samples. "
                         f"Received: a ShardStream of {len(stream)} rows")
    # One read of every row: checked, hashed and, for `scale`, measured.
    scaling = ScalingFit(scale)
    digest = stream.check(integers_allowed=scale != "none", visit=scaling.add)
    points = stream.sample(KMEANS_MAX_SAMPLES, seed)[1]
    return _Data(None, stream, None, points, list(stream.input_shape), stream.shape, digest,
                 False, scaling.layer())


def _array_data(x, y, n_clusters, device_loop, scale) -> _Data:
    device_loop = _resolve_device_loop(device_loop)
    if scale == "none":
        check_scaled(x, "x")
    x = check_features(x, "x", min_samples=n_clusters)
    input_shape = [int(d) for d in x.shape[1:]]
    x = x.reshape(len(x), -1)
    if y is not None:
        y = np.asarray(y)
        if y.shape != (len(x),):
            raise ValueError(
                f"`y` must have one label per sample, shape ({len(x)},). "
                f"Received: y with shape {y.shape}"
            )
    return _Data(x, None, y, x, input_shape, x.shape, array_sha256(x), device_loop,
                 fit_scaling(x, scale))


def train_dec(
    x: ArrayLike | ShardStream,
    n_clusters: int,
    recipe: Recipe | None = None,
    y: ArrayLike | None = None,
    output: str | os.PathLike | None = None,
    seed: int | None = None,
    baseline_kmeans: bool = False,
    verbose: int = 1,
    data_source: str | None = None,
    pretrain_callbacks: Sequence[keras.callbacks.Callback] | None = None,
    dec_callbacks: Sequence[keras.callbacks.Callback] | None = None,
    checkpoint_every: int = 1,
    fresh: bool = False,
    device_loop: bool | None = None,
    scale: str = "none",
) -> tuple[DEC, dict]:
    """Runs pretraining, k-means initialisation and DEC; returns the model and a report.

    With `output`, the run checkpoints itself to `<output>/checkpoints/`
    (every `checkpoint_every` epochs of pretraining and of DEC, and after
    k-means), each file written atomically, and calling `train_dec` again
    with the same arguments continues from the last checkpoint; a finished
    run is not redone. With `seed`, every random choice (weights, per-epoch
    sample order, k-means) is fixed and TensorFlow's op determinism is on,
    so two runs, or a killed-and-resumed run and an uninterrupted one, end
    with the same cluster assignments.

    Args:
        x: float array `(n_samples, n_features, ...)` (flattened), or a
            `ShardStream` for data larger than memory: each epoch is then
            streamed from the shards (`tf.data`, seeded shuffle), DEC's
            target refresh streams them in a fixed order, and k-means
            initialisation and the label-free report use a seeded sample of
            at most `KMEANS_MAX_SAMPLES` (100,000) rows (all rows below that).
            Streams take no `y`, no layerwise pretraining and no device loop.
        n_clusters: int >= 1.
        recipe: `Recipe`; defaults to `recipe_for(n_samples, n_features)`:
            the reference recipe for 100 features or more, a narrower one
            for tabular data.
        y: optional int labels, only for the ACC/NMI/ARI report.
        output: optional folder; receives `model.keras`, `metrics.json`,
            `history.csv` and `checkpoints/`.
        seed: int or None, for a repeatable run.
        baseline_kmeans: bool, also report k-means on the raw features.
        verbose: int, 0 silent, 1 Keras progress bars (`format_summary`
            turns the report into a few lines to print).
        data_source: str or None, recorded in the report (the dataset name
            or file), so `keras-dec export` can find the data again. Also
            how flat rows of a built-in image data set ("digits",
            "fashion_mnist", "mnist") are known to be images, for
            `recipe.augment` and `recipe.backbone="conv"`, which need image
            data: (n, height, width[, channels]) arrays, or such rows.
        pretrain_callbacks: Keras callbacks for the pretraining epochs.
        dec_callbacks: Keras callbacks for the DEC epochs.
        checkpoint_every: int >= 1, epochs between checkpoints.
        fresh: bool, discard existing checkpoints in `output` first.
        device_loop: bool or None. True trains with the data held on the
            accelerator and many steps per compiled call (`DeviceLoop`, JAX
            only); the sample order, the steps and the results are those of
            `fit`. Batch-level callbacks then fire once per stretch of steps
            (up to the epoch's end or DEC's next target refresh), as with
            `steps_per_execution`. None (default) uses it on JAX, where it is
            the fast path, and `fit` elsewhere.
        scale: "none" (default), "minmax" or "standard": scale each feature
            (fitted on `x`) inside the model. The autoencoder pretrains on
            the scaled data, the k-means baseline clusters it, and DEC's
            encoder starts with the scaling layer, so the saved model,
            `predict` and the exported graphs take raw features. With a
            scaling, integer features (counts, pixels) are accepted.

    Returns:
        `(dec, report)`; the report is what `metrics.json` holds.

    Example:

    >>> from keras_dec.datasets import load_digits
    >>> x, y = load_digits()
    >>> recipe = Recipe(dims=(32, 8), pretrain_epochs=2, max_iter=10)
    >>> dec, report = train_dec(x[:200], 10, recipe, y=y[:200], seed=0, verbose=0)
    >>> sorted(report["dec"])
    ['acc', 'ari', 'nmi']
    """
    n_clusters = check_int("n_clusters", n_clusters, 1)
    if output is not None:
        output = os.fspath(output)
        if not output.strip():
            raise ValueError(f"`output` must name a folder. Received: output={output!r}")
        if os.path.exists(output) and not os.path.isdir(output):
            raise ValueError(
                f"`output` must be a folder, but {output!r} is a file. Received: output={output!r}"
            )
    checkpoint_every = check_int("checkpoint_every", checkpoint_every, 1)
    scale = check_choice("scale", scale, SCALINGS)
    data = (_stream_data(x, y, n_clusters, device_loop, scale, seed)
            if isinstance(x, ShardStream) else _array_data(x, y, n_clusters, device_loop, scale))
    stream, x, y, points, shape = data.stream, data.x, data.y, data.points, data.shape
    input_shape, device_loop = data.input_shape, data.device_loop
    recipe = recipe or recipe_for(*shape)
    if stream is not None and recipe.pretrain_method == "layerwise":
        raise ValueError("Layerwise pretraining needs the data in memory; use "
                         "pretrain_method='end_to_end' with a ShardStream. Received: "
                         "pretrain_method='layerwise'")
    image_shape = _image_shape(recipe, input_shape, data_source, stream)
    distinct = distinct_rows(points, n_clusters)
    if distinct < n_clusters:
        raise ValueError(
            f"`x` has fewer distinct rows than n_clusters={n_clusters}; DEC cannot find "
            f"that many clusters. Received: x with {distinct} distinct rows"
        )
    recipe_dict = recipe.to_dict()
    identity = {
        "n_samples": int(shape[0]), "n_features": int(shape[1]), "n_clusters": n_clusters,
        "seed": seed, "recipe": recipe_dict, "scale": scale,
        "data_sha256": data.digest,
    }
    with contextlib.ExitStack() as stack:
        if output is not None:
            # One writer per output folder; a second run fails here, before any work.
            stack.enter_context(exclusive_folder(output, "keras-dec train"))
        ckpt = _Checkpoints(output, identity)
        ckpt.load(fresh)
        if ckpt.state["stage"] == "done" and output is not None:
            metrics_path = os.path.join(output, "metrics.json")
            try:
                with open(metrics_path, encoding="utf-8") as f:
                    report = dict(json.load(f))
            except (OSError, ValueError, TypeError) as e:
                raise ValueError(f"The finished run's report {metrics_path!r} is unreadable "
                                 f"({e}); rerun with --fresh to start over.") from None
            report["resumed"] = "already finished"
            return _load_checkpoint(os.path.join(output, "model.keras"), DEC), report
        if seed is not None:
            keras.utils.set_random_seed(seed)
            enable_determinism()
        report = ckpt.state["report"] or {
            "package_version": __version__,
            "backend": keras.backend.backend(),
            "n_samples": int(shape[0]),
            "n_features": int(shape[1]),
            "input_shape": input_shape,
            "scale": scale,
            "n_clusters": n_clusters,
            "seed": seed,
            "data_source": data_source,
            "recipe": recipe_dict,
            "seconds": {},
        }
        ckpt.state["report"] = report
        if stream is None:
            run = _Run(x, y, recipe, seed, report, ckpt, verbose, checkpoint_every, device_loop,
                       data.scaling, image_shape)
        else:
            report["shards"] = len(stream.paths)
            report["kmeans_sample"] = len(points)
            run = _StreamRun(stream, points, recipe, seed, report, ckpt, verbose,
                             checkpoint_every, data.scaling,
                             image_shape)

        if baseline_kmeans and "kmeans_raw" not in report["seconds"]:
            run.kmeans_on_raw_features(n_clusters)
        stage = ckpt.state["stage"]
        if stage in ("start", "pretrain"):
            dec = run.initialize_dec(run.pretrain(pretrain_callbacks), n_clusters)
        else:
            dec = _load_checkpoint(ckpt.model_path("dec"), DEC)
        epoch = run.train_dec(dec, dec_callbacks)
        return dec, run.finish(dec, output, epoch)


def _image_shape(recipe, input_shape, data_source, stream):
    """The image shape that `recipe.augment` or the conv backbone needs, else None."""
    augment = recipe.augment != "none"
    if augment and stream is not None:
        raise ValueError(f"Augmentation (`augment={recipe.augment!r}`) needs the data in memory; "
                         f"a ShardStream streams it. Received: augment={recipe.augment!r} with a "
                         "ShardStream")
    options = [text for text, wanted in ((f"Augmentation (`augment={recipe.augment!r}`)", augment),
                                         ("the conv backbone", recipe.backbone == "conv"))
               if wanted]
    if not options:
        return None
    shape = image_shape_of(input_shape, data_source)
    if shape is None or int(np.prod(shape)) != int(np.prod(input_shape)):
        who = " and ".join(options)
        raise ValueError(
            f"{who[0].upper()}{who[1:]} need{'s' if len(options) == 1 else ''} image data, and "
            "`x` is not: pass it as "
            "(n_samples, height, width[, channels]), or flat with `data_source` naming a "
            f"built-in image data set. Received: x with per-sample shape {tuple(input_shape)} "
            f"and data_source={data_source!r}"
        )
    if recipe.backbone == "conv":
        conv_image_shape(shape)  # a clear error for sizes it cannot take
    return shape


def _stage_seed(seed, stage, epoch=0):
    """An int seed for one stage's random draws, a function of (seed, stage, epoch) only."""
    if seed is None:
        return None
    return int(np.random.default_rng([seed, 2 if stage == "pretrain" else 3, epoch])
               .integers(2**31 - 2))


def _resolve_device_loop(device_loop) -> bool:
    """`train_dec`'s `device_loop`: None means "where the backend has one" (JAX).

    `DeviceLoop` runs on one device; under a `keras.distribution` (data
    parallel over several devices) training goes through `fit`, which shards.
    """
    distributed = keras.distribution.distribution() is not None
    if device_loop is None:
        return DeviceLoop is not None and not distributed
    if not isinstance(device_loop, bool):
        raise TypeError(f"`device_loop` must be True, False or None. Received: "
                        f"device_loop={device_loop!r}")
    if device_loop and DeviceLoop is None:
        raise ValueError(
            "`device_loop=True` needs the JAX backend (KERAS_BACKEND=jax). Received: "
            f"device_loop=True on the {keras.backend.backend()} backend"
        )
    if device_loop and distributed:
        raise ValueError(
            "`device_loop=True` trains on one device, but a keras.distribution is set "
            f"({type(keras.distribution.distribution()).__name__}); leave device_loop=None "
            "to train through fit, which shards. Received: device_loop=True"
        )
    return device_loop


class _Run:
    """The three stages of `train_dec`, sharing the data, the report and the checkpoints."""

    def __init__(self, x, y, recipe, seed, report, ckpt, verbose, checkpoint_every,
                 device_loop, scaling=None, image_shape=None):
        self.x, self.y, self.recipe, self.seed = x, y, recipe, seed
        # The images `recipe.augment` transforms and the conv backbone takes.
        self.image_shape = image_shape
        # The autoencoder and the k-means baseline see the scaled features;
        # DEC takes `x` as given, through its encoder's scaling layer.
        self.scaling = scaling
        self.x_fit = scale_features(x, scaling)
        # The rows k-means initialises on and the label-free report scores: all of them.
        self.points, self.points_fit = x, self.x_fit
        self.n_samples, self.n_features = x.shape
        self.report, self.ckpt = report, ckpt
        self.verbose = "auto" if verbose else 0
        self.checkpoint_every = checkpoint_every
        self.device_loop = device_loop
        # Each baseline's cluster labels from this process, for the label-free report.
        self.labels = {}

    def _callback_list(self, callbacks, model, epochs, steps):
        """The callbacks as `fit` would hold them, for the device loop."""
        return keras.callbacks.CallbackList(callbacks, model=model, verbose=self.verbose,
                                            epochs=epochs, steps=steps)

    def _fit_data(self, stage, epoch, batch_size, steps=None, pairs=False) -> dict:
        """`fit` arguments for one epoch: `steps` batches in the epoch's seeded order."""
        x = self._pretrain_x(epoch) if stage == "pretrain" else self.x
        order = _epoch_order(len(x), self.seed, stage, epoch)
        if steps is not None:
            order = order[:steps * batch_size]
        return fit_inputs(x[order], batch_size, pairs=pairs)

    def _refresh_data(self):
        """The whole data set in a fixed order, for DEC's target refresh."""
        return self.x

    def _augments(self, stage) -> bool:
        """Whether `recipe.augment` applies to "pretrain" or to the "dec" stage."""
        return self.recipe.augment in ("all", "pretrain" if stage == "pretrain" else "clustering")

    def _augmentation(self, stage, epoch=0) -> ImageAugmentation | None:
        """DEC-DA's augmentation for a stage, seeded by (seed, stage, epoch); None without."""
        if not self._augments(stage):
            return None
        return ImageAugmentation(self.image_shape, self.recipe.augment_shift,
                                 self.recipe.augment_rotation,
                                 seed=_stage_seed(self.seed, stage, epoch))

    def _pretrain_x(self, epoch) -> np.ndarray:
        """The pretraining epoch's inputs (and targets): the data, or its augmented copy.

        A fresh draw per epoch, a function of (seed, epoch), so a resumed run
        sees the images an uninterrupted one sees (DEC-DA pretrains the
        autoencoder to reconstruct augmented images).
        """
        layer = self._augmentation("pretrain", epoch)
        if layer is None:
            return self.x_fit
        return np.concatenate([
            keras.ops.convert_to_numpy(layer(self.x_fit[i:i + 4096], training=True))
            for i in range(0, len(self.x_fit), 4096)
        ])

    def add_time(self, stage, start):
        seconds = self.report["seconds"]
        seconds[stage] = seconds.get(stage, 0.0) + time.perf_counter() - start

    def _checkpoint_due(self, epoch, last):
        return epoch % self.checkpoint_every == 0 or last

    def kmeans_on_raw_features(self, n_clusters):
        from sklearn.cluster import KMeans

        start = time.perf_counter()
        labels = KMeans(n_clusters, n_init=self.recipe.n_init,
                        random_state=self.seed).fit_predict(self.points_fit)
        self.add_time("kmeans_raw", start)
        self.labels["kmeans_raw"] = labels
        if self.y is not None:
            self.report["kmeans_raw"] = evaluate_clustering(self.y, labels)

    # -- 1. pretraining, one epoch per fit call so it can stop and resume anywhere.
    def pretrain(self, callbacks=None) -> keras.Model:
        recipe, ckpt = self.recipe, self.ckpt
        if ckpt.state["stage"] == "pretrain":
            autoencoder = _load_checkpoint(ckpt.model_path("autoencoder"))
            epoch = ckpt.state["epoch"]
        else:
            autoencoder = self._new_autoencoder()
            epoch = 0
        epochs = recipe.pretrain_epochs_for(self.n_samples)
        callbacks = [_StopOnNonFinite("pretraining"), _Progress(epochs), *(callbacks or [])]
        if self.device_loop and epoch < epochs:
            loop = DeviceLoop(autoencoder, self.x_fit, recipe.pretrain_batch_size, pairs=True)
            callbacks = self._callback_list(callbacks, autoencoder, epochs,
                                            -(-self.n_samples // recipe.pretrain_batch_size))
        while epoch < epochs:
            start = time.perf_counter()
            if self.device_loop:
                order = _epoch_order(self.n_samples, self.seed, "pretrain", epoch)
                if self._augments("pretrain"):
                    loop.set_data(self._pretrain_x(epoch))
                loss = loop.fit_epoch(order, epoch, callbacks)["loss"]
            else:
                h = autoencoder.fit(**self._fit_data("pretrain", epoch, recipe.pretrain_batch_size,
                                                     pairs=True),
                                    shuffle=False, initial_epoch=epoch, epochs=epoch + 1,
                                    callbacks=callbacks, verbose=self.verbose)
                loss = h.history["loss"][-1]
            # Kept in the report (and so in each checkpoint's state) for the training curves.
            self.report.setdefault("pretrain_history", {"loss": []})["loss"].append(float(loss))
            epoch += 1
            self.add_time("pretrain", start)
            if self._checkpoint_due(epoch, epoch == epochs):
                ckpt.save("pretrain", epoch, autoencoder, "autoencoder")
        return autoencoder

    def _new_autoencoder(self) -> keras.Model:
        recipe = self.recipe
        if recipe.backbone == "conv":
            autoencoder, _ = build_conv_autoencoder(self.image_shape, recipe.dims[-1],
                                                    recipe.conv_filters, seed=self.seed)
        else:
            autoencoder, _ = build_autoencoder(self.n_features, dims=recipe.dims, seed=self.seed)
        if recipe.pretrain_method == "layerwise":
            start = time.perf_counter()
            pretrain_autoencoder(autoencoder, self.x_fit, method="layerwise", epochs=0,
                                 layerwise_epochs=recipe.pretrain_epochs,
                                 batch_size=recipe.pretrain_batch_size, verbose=self.verbose,
                                 seed=self.seed)
            self.add_time("pretrain", start)
        rate = recipe.pretrain_learning_rate
        epochs = recipe.pretrain_epochs_for(self.n_samples)
        if recipe.pretrain_schedule == "cosine" and epochs:
            steps = -(-self.n_samples // recipe.pretrain_batch_size) * epochs
            rate = keras.optimizers.schedules.CosineDecay(rate, decay_steps=steps)
        if recipe.pretrain_optimizer == "adam":
            optimizer = keras.optimizers.Adam(learning_rate=rate,
                                              global_clipnorm=recipe.pretrain_clipnorm)
        else:
            optimizer = keras.optimizers.SGD(learning_rate=rate, momentum=recipe.pretrain_momentum,
                                             global_clipnorm=recipe.pretrain_clipnorm)
        autoencoder.compile(optimizer=optimizer, loss="mse")
        return autoencoder

    # -- 2. k-means on the embeddings gives the initial centres.
    def initialize_dec(self, autoencoder, n_clusters) -> DEC:
        recipe = self.recipe
        encoder = with_scaling(encoder_of(autoencoder), self.scaling)
        options = {"n_clusters": n_clusters, "alpha": recipe.alpha,
                   "update_interval": recipe.update_interval, "tol": recipe.tol,
                   "augmentation": self._augmentation("dec")}
        if recipe.clustering == "idec":
            dec = IDEC(encoder, decoder_of(autoencoder), gamma=recipe.gamma, **options)
        else:
            dec = DEC(encoder, **options)
        start = time.perf_counter()
        dec.initialize_centers(self.points, n_init=recipe.n_init, seed=self.seed)
        self.add_time("kmeans_init", start)
        self.labels["autoencoder_kmeans"] = dec.initial_labels_
        if self.y is not None:
            self.report["autoencoder_kmeans"] = evaluate_clustering(self.y, dec.initial_labels_)
        dec.compile(optimizer=keras.optimizers.SGD(learning_rate=recipe.learning_rate,
                                                   momentum=recipe.momentum))
        self.ckpt.save("dec", 0, dec, "dec")
        return dec

    # -- 3. DEC, one epoch per fit call; stops at tol or max_iter.
    def train_dec(self, dec, callbacks=None) -> int:
        """Trains to tol or max_iter; returns the number of DEC epochs run in all."""
        recipe, ckpt = self.recipe, self.ckpt
        epoch = ckpt.state["epoch"] if ckpt.state["stage"] == "dec" else 0
        batches = -(-self.n_samples // recipe.batch_size)
        total_epochs = -(-recipe.max_iter // batches)
        # DEC.fit's TargetRefresh checks the loss and the weights itself.
        callbacks = [_Progress(total_epochs), *(callbacks or [])]
        history = self.report.setdefault("history", {"loss": [], "label_change": []})
        refreshes = self.report.setdefault("refreshes", [])
        loop = None
        while dec.n_iter_ < recipe.max_iter and not dec.converged_:
            start = time.perf_counter()
            steps = min(batches, recipe.max_iter - dec.n_iter_)
            if self.device_loop:
                order = _epoch_order(self.n_samples, self.seed, "dec", epoch)
                loop = loop or DeviceLoop(dec, self.x, recipe.batch_size)
                logs, records = self._dec_epoch_on_device(
                    dec, loop, order[:steps * recipe.batch_size], epoch, callbacks, total_epochs,
                    batches)
            else:
                h = dec.fit(**self._fit_data("dec", epoch, recipe.batch_size, steps),
                            shuffle=False, initial_epoch=epoch, epochs=epoch + 1,
                            callbacks=callbacks, verbose=self.verbose,
                            target_data=self._refresh_data(), target_data_ordered=True,
                            refresh_labels=self.y)
                logs = {key: h.history[key][-1] for key in history}
                records = h.refreshes
            epoch += 1
            self.add_time("dec", start)
            for key in history:
                history[key].append(float(logs[key]))
            refreshes.extend(records)
            done = dec.converged_ or dec.n_iter_ >= recipe.max_iter
            if self._checkpoint_due(epoch, done):
                ckpt.save("dec", epoch, dec, "dec")
        return epoch

    def _dec_epoch_on_device(self, dec, loop, order, epoch, callbacks, total_epochs, batches):
        """One DEC epoch through `DeviceLoop`, stopping at each target refresh."""
        # What `DEC.fit` adds: the refresh over the whole data set, here the
        # copy already on the device (same values, same order, so labels are cached).
        refresher = TargetRefresh(loop.x, ordered=True, labels=self.y)
        callback_list = self._callback_list([refresher, *callbacks], dec, total_epochs, batches)
        logs = loop.fit_epoch(order, epoch, callback_list,
                              steps_to_callback=refresher.steps_to_refresh)
        dec.refresh_log_.extend(refresher.records)
        return logs, refresher.records

    def finish(self, dec, output, epoch) -> dict:
        report = self.report
        report["dec_iterations"] = dec.n_iter_
        report["converged"] = dec.converged_
        report["target_refreshes"] = int(dec.target_refreshes.numpy())
        report["final_label_change"] = float(dec.label_change.numpy())
        self.labels["dec"] = dec.predict_clusters(self.points)
        if self.y is not None:
            report["dec"] = evaluate_clustering(self.y, self.labels["dec"])
        # Without labels: how well each method's clusters separate, in DEC's
        # embedding (where DEC's own clusters are favoured) and in the input
        # features (where k-means on them is favoured).
        spaces = {"embedding": dec.embed(self.points), "features": self.points_fit}
        report["label_free"] = {
            space: {name: label_free_indices(points, labels, self.seed or 0)
                    for name, labels in self.labels.items()}
            for space, points in spaces.items()
        }
        seconds = report["seconds"]
        seconds["total"] = sum(v for k, v in seconds.items() if k != "total")
        if output is not None:
            atomic.save_model(dec, os.path.join(output, "model.keras"))
            atomic.write_text(os.path.join(output, "history.csv"),
                              _history_csv(report["history"]))
            atomic.write_json(os.path.join(output, "metrics.json"), report)
            self.ckpt.save("done", epoch)
        return report


class _StreamRun(_Run):
    """`_Run` over a `ShardStream`: epochs and target refreshes streamed from the shards.

    `points` (the bounded sample) stands in for the data where a stage needs
    rows in memory: k-means initialisation and the label-free report.
    """

    def __init__(self, stream, points, recipe, seed, report, ckpt, verbose, checkpoint_every,
                 scaling, image_shape=None):
        super().__init__(points, None, recipe, seed, report, ckpt, verbose, checkpoint_every,
                         False, scaling, image_shape)
        self.stream = stream
        self.n_samples, self.n_features = stream.shape
        self._ordered = None

    def _fit_data(self, stage, epoch, batch_size, steps=None, pairs=False) -> dict:
        transform = None
        if stage == "pretrain" and self.scaling is not None:
            def transform(block):
                return scale_features(block, self.scaling)
        return {"x": self.stream.dataset(batch_size, self.seed, stage, epoch, pairs=pairs,
                                         steps=steps, transform=transform)}

    def _refresh_data(self):
        # One dataset object for the whole run: DEC then reuses each refresh's labels.
        if self._ordered is None:
            self._ordered = self.stream.ordered_dataset(1024)
        return self._ordered


def _history_csv(history: dict) -> str:
    keys = sorted(history)
    rows = [",".join(["epoch", *keys])]
    for epoch in range(len(history[keys[0]]) if keys else 0):
        rows.append(",".join([str(epoch), *(repr(float(history[k][epoch])) for k in keys)]))
    return "\n".join(rows) + "\n"


def format_summary(report: dict) -> str:
    """A few human-readable lines about a `train_dec` report."""
    lines = [
        f"DEC on {report['n_samples']} x {report['n_features']}, "
        f"{report['n_clusters']} clusters: {report['dec_iterations']} iterations, "
        f"{'converged (label change < tol)' if report['converged'] else 'stopped at max_iter'}",
    ]
    for key, name in (("kmeans_raw", "k-means (raw)"), ("autoencoder_kmeans", "AE + k-means"),
                      ("dec", "DEC")):
        if key in report:
            m = report[key]
            lines.append(f"  {name:14s} ACC {m['acc']:.4f}  NMI {m['nmi']:.4f}  ARI {m['ari']:.4f}")
    lines.extend(_label_free_lines(report.get("label_free", {})))
    times = ", ".join(f"{k} {v:.1f}s" for k, v in report["seconds"].items())
    lines.append(f"  time: {times}")
    if report.get("resumed"):
        lines.append(f"  ({report['resumed']})")
    return "\n".join(lines)


# The silhouette difference below which the summary calls two clusterings even.
SILHOUETTE_MARGIN = 0.01


def _label_free_lines(label_free: dict) -> list[str]:
    """The label-free indices per method and space, and one plain verdict on DEC.

    Each space favours one side: DEC's embedding is where DEC sharpened its
    clusters, the input features are where k-means minimised its spread. The
    verdict says DEC did better (or worse) than k-means only when its
    silhouette is ahead (or behind) by more than `SILHOUETTE_MARGIN` in both.
    """
    names = {"kmeans_raw": "k-means (raw)", "autoencoder_kmeans": "AE + k-means", "dec": "DEC"}
    where = {"embedding": "DEC's embedding", "features": "the input features"}
    lines = []
    for key, name in names.items():
        cells = []
        for space, label in where.items():
            m = label_free.get(space, {}).get(key)
            if m and m["silhouette"] is not None:
                cells.append(f"{m['silhouette']:.3f} in {label}")
        if cells:
            lines.append(f"  {name:14s} silhouette {', '.join(cells)}")
    gaps = []
    for space in where:
        dec = label_free.get(space, {}).get("dec")
        raw = label_free.get(space, {}).get("kmeans_raw")
        if dec and raw and dec["silhouette"] is not None and raw["silhouette"] is not None:
            gaps.append(dec["silhouette"] - raw["silhouette"])
    if len(gaps) == 2:
        if min(gaps) > SILHOUETTE_MARGIN:
            text = "DEC's clusters are better separated than k-means' in both spaces"
        elif max(gaps) < -SILHOUETTE_MARGIN:
            text = "DEC's clusters are less well separated than k-means' in both spaces"
        else:
            text = (f"no clear evidence either way (silhouette gaps {gaps[0]:+.3f} and "
                    f"{gaps[1]:+.3f}; each space favours its own method)")
        lines.append(f"  Without labels: {text}.")
    return lines
