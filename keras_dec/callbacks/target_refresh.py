"""The callback that refreshes DEC's target distribution during `fit`."""


from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

import keras
import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    import tensorflow as tf


class TargetRefresh(keras.callbacks.Callback):
    """Refreshes a `DEC` model's target every `update_interval` steps; stops at `tol`.

    `DEC.fit` adds this callback itself; it is public so that custom training
    loops can reuse it. A refresh is one streaming pass over `data` (see
    `DEC.refresh_target`). Training stops as soon as the fraction of points
    whose cluster changed since the previous refresh falls below the model's
    `tol`, the paper's stopping rule. Steps are counted from the batch index
    `on_train_batch_end` receives, so a loop that runs several steps between
    callbacks (`DeviceLoop`) is counted right; such a loop asks
    `steps_to_refresh()` how far it may run.

    Args:
        data: the whole training set, used for the refresh passes: a float
            array (batched by the model's `refresh_batch_size`) or a finite,
            batched `tf.data.Dataset` of inputs.
        verbose: int, 1 prints one line per refresh.
        ordered: bool, `data` yields the same samples in the same order at
            every pass, so labels can be cached (see `DEC.refresh_target`).
        labels: optional true labels of `data` (needs `ordered`), only to
            record each refresh's ACC (`records[i]["acc"]`).

    Examples:
        >>> import numpy as np, keras
        >>> from keras_dec import DEC
        >>> x = np.random.default_rng(0).random((40, 4)).astype("float32")
        >>> encoder = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        >>> dec = DEC(encoder, n_clusters=2, update_interval=2)
        >>> _ = dec.initialize_centers(x, seed=0)
        >>> dec.compile()
        >>> _ = keras.Model.fit(dec, x, batch_size=16, epochs=1, verbose=0,
        ...                     callbacks=[TargetRefresh(x, ordered=True)])
        >>> int(dec.target_refreshes.numpy()) >= 1
        True
    """

    def __init__(self, data: ArrayLike | tf.data.Dataset, verbose: int = 0, ordered: bool = False,
                 labels: ArrayLike | None = None):
        super().__init__()
        if labels is not None and not ordered:
            raise ValueError("`labels` need `ordered=True` data: a shuffled stream's clusters "
                             "cannot be matched to them. Received: ordered=False with labels")
        self.data = data
        self.verbose = verbose
        self.ordered = ordered
        self.labels = labels
        self.records: list[dict] = []
        self._steps_since_refresh = 0
        self._next_batch = 0

    def steps_to_refresh(self) -> int:
        """Training steps left before the next refresh is due."""
        return self._update_interval - self._steps_since_refresh

    def _check_loss(self, loss):
        # The loss is the epoch's running mean, so a NaN step keeps it NaN until
        # the epoch ends: checking at refreshes and epoch ends needs no host
        # round trip per step. `self.model` (a full state sync on JAX) only on failure.
        if loss is None:
            return
        value = float(keras.ops.convert_to_numpy(loss))
        if not math.isfinite(value):
            raise FloatingPointError(
                f"The DEC loss became {value} by step {int(self.model.train_steps.numpy())}. "
                "Training stopped; lower the learning rate or check the input scaling."
            )

    def _refresh(self, logs=None):
        self._check_loss((logs or {}).get("loss"))
        model = self.model
        start = time.perf_counter()
        change = model.refresh_target(self.data, ordered=self.ordered)
        self._steps_since_refresh = 0
        record = {
            "step": int(model.train_steps.numpy()),
            "label_change": change,
            "loss": float(keras.ops.convert_to_numpy(model.loss_tracker.result())),
            "seconds": time.perf_counter() - start,
        }
        if self.labels is not None and model.refresh_labels_ is not None:
            from keras_dec.metrics import cluster_accuracy

            record["acc"] = cluster_accuracy(self.labels, model.refresh_labels_)
        self.records.append(record)
        if self.verbose:
            shown = "n/a" if change is None else f"{change:.5f}"
            print(f"\n[DEC] step {record['step']}: target refreshed, label change {shown}")
        if change is not None and change < model.tol:
            model.converged.assign(True)
            model.stop_training = True
            if self.verbose:
                print(f"[DEC] label change {change:.5f} < tol {model.tol}: converged.")

    def on_train_begin(self, logs=None):
        model = self.model
        self._update_interval = model.update_interval
        if int(model.target_refreshes.numpy()) == 0:
            self._refresh()
        else:
            self._steps_since_refresh = int(model.train_steps.numpy()) - int(
                model.last_refresh_step.numpy()
            )

    def on_epoch_begin(self, epoch, logs=None):
        self._next_batch = 0

    def on_train_batch_end(self, batch, logs=None):
        # Counted here, and `self.model` left alone between refreshes: on JAX
        # each access to `self.model` during `fit` syncs the whole training state.
        self._steps_since_refresh += batch + 1 - self._next_batch
        self._next_batch = batch + 1
        if self._steps_since_refresh >= self._update_interval:
            self._refresh(logs)

    def on_epoch_end(self, epoch, logs=None):
        self._check_loss((logs or {}).get("loss"))

    def on_train_end(self, logs=None):
        # A NaN step after the last refresh would otherwise leave NaN weights behind.
        model = self.model
        for variable in model.trainable_variables:
            if not np.all(np.isfinite(keras.ops.convert_to_numpy(variable.value))):
                raise FloatingPointError(
                    f"The weight {variable.path!r} became NaN or Inf by DEC step "
                    f"{int(model.train_steps.numpy())}. Training stopped; lower the learning "
                    "rate or check the input for NaN/Inf."
                )
