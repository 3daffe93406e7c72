"""An epoch as stretches of compiled training steps over data kept on the device.

`fit` feeds each batch from the host and runs the callbacks after every
step. Here the data set is copied to the device once; each epoch only its
sample order goes over, and a whole stretch of steps, up to the next point
where a callback must act (an epoch's end, DEC's next target refresh), runs
as one compiled call of the model's own `train_step` over batches gathered
on the device. The backends differ only in how a stretch is compiled and
where the weights live between stretches (`jax_loop.py`,
`tensorflow_loop.py`).

Callbacks see what `fit` with `steps_per_execution` shows them:
`on_train_batch_begin/end` once per stretch (with the index of its
first/last step), then the epoch and train events as usual, with the
model's variables up to date.
"""

from __future__ import annotations

import keras
import numpy as np


class StretchLoop:
    """A compiled model's training steps over data kept on the device.

    Args:
        model: a compiled `keras.Model` (the autoencoder, or `DEC`).
        x: float array `(n_samples, ...)`, copied to the device once.
        batch_size: int, samples per step.
        pairs: bool, train on `(x, x)` (the autoencoder) instead of `(x,)`.
    """

    def __init__(self, model: keras.Model, x, batch_size: int, pairs: bool = False):
        if getattr(model, "optimizer", None) is None:
            raise ValueError(
                "`model` must be compiled (with an optimizer) before it can train. Received: "
                f"an uncompiled {type(model).__name__} {model.name!r}"
            )
        self.model = model
        self.batch_size = int(batch_size)
        self.pairs = pairs
        self.x = self.to_device(np.asarray(x))

    def to_device(self, x: np.ndarray):
        """`x` copied to the device, as the compiled stretches take it."""
        raise NotImplementedError

    def set_data(self, x) -> None:
        """Replaces the data on the device by `x` of the same shape (no recompilation)."""
        x = np.asarray(x)
        if x.shape != tuple(self.x.shape):
            raise ValueError(f"`x` must keep the shape {tuple(self.x.shape)}. Received: x with "
                             f"shape {x.shape}")
        self.x = self.to_device(x)

    def order_on_device(self, order: np.ndarray):
        """The epoch's sample order, copied to the device once per epoch."""
        raise NotImplementedError

    def start(self) -> None:
        """Takes the model's variables as the next stretch starts from (after callbacks)."""

    def stretch(self, order, first: int, n_steps: int, batch_size: int) -> dict:
        """Runs `n_steps` steps on batches `x[order[first + i*batch_size:][:batch_size]]`."""
        raise NotImplementedError

    def end(self) -> None:
        """Makes the model's variables current before callbacks see them."""

    def _build(self):
        sample = np.asarray(self.x[: min(2, len(self.x))])
        # What `fit` does first: build the optimizer and the compiled loss/metrics.
        self.model._symbolic_build(data_batch=(sample, sample) if self.pairs else (sample,))

    def fit_epoch(self, order, epoch: int, callbacks=None, steps_to_callback=None) -> dict:
        """One epoch over `x[order]` in batches; returns the epoch's logs (floats).

        Args:
            order: int array, the epoch's sample order (may be shorter than x).
            epoch: int, the epoch's index, for the callbacks.
            callbacks: a `keras.callbacks.CallbackList` or list, or None.
            steps_to_callback: optional callable returning how many steps may
                run before the callbacks must next see the model (DEC's next
                target refresh); the epoch's end is always such a point.
        """
        model = self.model
        self._build()
        if not isinstance(callbacks, keras.callbacks.CallbackList):
            callbacks = keras.callbacks.CallbackList(callbacks or [], model=model)
        order = np.asarray(order, dtype="int32")
        batch_size, n = self.batch_size, len(order)
        steps, full = -(-n // batch_size), n // batch_size
        model.stop_training = False
        callbacks.on_train_begin()
        callbacks.on_epoch_begin(epoch)
        model.reset_metrics()
        order_device = self.order_on_device(order)
        self.start()
        logs = {}
        step = 0
        while step < steps and not model.stop_training:
            stretch = steps - step
            if steps_to_callback is not None:
                stretch = max(1, min(stretch, int(steps_to_callback())))
            callbacks.on_train_batch_begin(step)
            end = step + stretch
            if min(end, full) > step:
                logs = self.stretch(order_device, step * batch_size, min(end, full) - step,
                                    batch_size)
            if end > full:  # the epoch's last, partial batch
                logs = self.stretch(order_device, full * batch_size, 1, n - full * batch_size)
            step = end
            self.end()
            callbacks.on_train_batch_end(step - 1, logs)
            self.start()  # a callback may have changed variables
        epoch_logs = {k: float(np.asarray(v)) for k, v in logs.items()}
        callbacks.on_epoch_end(epoch, epoch_logs)
        callbacks.on_train_end(epoch_logs)
        return epoch_logs
