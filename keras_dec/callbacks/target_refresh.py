"""The callback that refreshes DEC's target distribution during `fit`."""


from __future__ import annotations

import math
import time

import keras


class TargetRefresh(keras.callbacks.Callback):
    """Refreshes a `DEC` model's target every `update_interval` steps; stops at `tol`.

    `DEC.fit` adds this callback itself; it is public so that custom training
    loops can reuse it. A refresh is one streaming pass over `data` (see
    `DEC.refresh_target`). Training stops as soon as the fraction of points
    whose cluster changed since the previous refresh falls below the model's
    `tol`, the paper's stopping rule.

    Args:
        data: a finite, batched `tf.data.Dataset` of inputs: the whole
            training set, used for the refresh passes.
        verbose: int, 1 prints one line per refresh.
        ordered: bool, `data` yields the same samples in the same order at
            every pass, so labels can be cached (see `DEC.refresh_target`).

    Example:

    >>> import numpy as np, keras, tensorflow as tf
    >>> from keras_dec import DEC
    >>> x = np.random.default_rng(0).random((40, 4)).astype("float32")
    >>> encoder = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    >>> dec = DEC(encoder, n_clusters=2, update_interval=2)
    >>> _ = dec.initialize_centers(x, seed=0)
    >>> dec.compile()
    >>> data = tf.data.Dataset.from_tensor_slices(x).batch(16)
    >>> _ = keras.Model.fit(dec, data, epochs=1, verbose=0,
    ...                     callbacks=[TargetRefresh(data)])
    >>> int(dec.target_refreshes.numpy()) >= 1
    True
    """

    def __init__(self, data, verbose: int = 0, ordered: bool = False):
        super().__init__()
        self.data = data
        self.verbose = verbose
        self.ordered = ordered
        self.records: list[dict] = []

    def _refresh(self):
        model = self.model
        start = time.perf_counter()
        change = model.refresh_target(self.data, ordered=self.ordered)
        record = {
            "step": int(model.train_steps.numpy()),
            "label_change": change,
            "loss": float(model.loss_tracker.result().numpy()),
            "seconds": time.perf_counter() - start,
        }
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
        if int(self.model.target_refreshes.numpy()) == 0:
            self._refresh()

    def on_train_batch_end(self, batch, logs=None):
        model = self.model
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            raise FloatingPointError(
                f"The DEC loss became {float(loss)} at step {int(model.train_steps.numpy())}. "
                "Training stopped; lower the learning rate or check the input scaling."
            )
        steps = int(model.train_steps.numpy()) - int(model.last_refresh_step.numpy())
        if steps >= model.update_interval:
            self._refresh()
