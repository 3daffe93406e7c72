"""Training with the data held on the accelerator, many steps per compiled call (JAX).

Keras' `fit` on JAX (3.15.1) feeds each batch from the host and dispatches
one compiled step per batch, with Python between steps: on a GPU a step of
the DEC autoencoder then costs about 1.3 ms, nearly all of it launch and
host overhead (issue 11's measurement: 3.7 TFLOP/s on an H200). Here the
data set is copied to the device once; each epoch only its sample order
(4 bytes per sample) goes over, and a whole stretch of steps, up to the
next point where a callback must act (an epoch's end, DEC's next target
refresh), runs as one `jax.jit` call: a `lax.fori_loop` of the model's own
stateless `train_step(state, data)` over batches gathered on the device.

The steps are the model's own: Keras' `train_step` for the autoencoder,
`DEC`'s for DEC. Callbacks see what `fit` with `steps_per_execution` shows
them: `on_train_batch_begin/end` once per stretch (with the index of its
first/last step), then the epoch and train events as usual, with the model's
variables up to date.
"""

from __future__ import annotations

import jax
import keras
import numpy as np
from jax import numpy as jnp


def _variable_groups(model):
    return (model.trainable_variables, model.non_trainable_variables,
            model.optimizer.variables, model.metrics_variables)


def _read_state(model):
    return tuple([v.value for v in group] for group in _variable_groups(model))


def _write_state(model, state):
    for group, values in zip(_variable_groups(model), state, strict=True):
        for variable, value in zip(group, values, strict=True):
            variable.assign(value)


class DeviceLoop:
    """A compiled model's training steps over data kept on the device.

    Args:
        model: a compiled `keras.Model` (the autoencoder, or `DEC`).
        x: float array `(n_samples, ...)`, copied to the device once.
        batch_size: int, samples per step.
        pairs: bool, train on `(x, x)` (the autoencoder) instead of `(x,)`.

    Example:

    >>> import numpy as np, keras
    >>> x = np.random.default_rng(0).random((40, 4)).astype("float32")
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> loop = DeviceLoop(model, x, batch_size=16, pairs=True)
    >>> logs = loop.fit_epoch(np.arange(40), epoch=0)
    >>> sorted(logs)
    ['loss']
    """

    def __init__(self, model: keras.Model, x, batch_size: int, pairs: bool = False):
        if getattr(model, "optimizer", None) is None:
            raise ValueError(
                "`model` must be compiled (with an optimizer) before it can train. Received: "
                f"an uncompiled {type(model).__name__} {model.name!r}"
            )
        self.model = model
        self.x = jax.device_put(np.asarray(x))
        self.batch_size = int(batch_size)
        self.pairs = pairs
        # The data is an argument, not a closure: a captured array would be
        # compiled into the program as a constant.
        self._steps = jax.jit(self._run_steps, static_argnums=(5,))

    def set_data(self, x) -> None:
        """Replaces the data on the device by `x` of the same shape (no recompilation)."""
        x = np.asarray(x)
        if x.shape != self.x.shape:
            raise ValueError(f"`x` must keep the shape {tuple(self.x.shape)}. Received: x with "
                             f"shape {x.shape}")
        self.x = jax.device_put(x)

    def _run_steps(self, state, data, order, first, n_steps, batch_size):
        """`n_steps` steps on batches `data[order[first + i*batch_size:][:batch_size]]`."""

        def batch(i):
            index = jax.lax.dynamic_slice(order, (first + i * batch_size,), (batch_size,))
            x = jnp.take(data, index, axis=0)
            return (x, x) if self.pairs else (x,)

        def step(i, carry):
            state, _ = carry
            logs, state = self.model.train_step(state, batch(i))
            return state, logs

        sample = batch(0)
        logs_spec = jax.eval_shape(lambda s: self.model.train_step(s, sample)[0], state)
        logs = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), logs_spec)
        state, logs = jax.lax.fori_loop(0, n_steps, step, (state, logs))
        return logs, state

    def _build(self):
        model = self.model
        sample = np.asarray(self.x[: min(2, len(self.x))])
        # What `fit` does first: build the optimizer and the compiled loss/metrics.
        model._symbolic_build(data_batch=(sample, sample) if self.pairs else (sample,))

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
        order_device = jax.device_put(order)
        model.stop_training = False
        callbacks.on_train_begin()
        callbacks.on_epoch_begin(epoch)
        model.reset_metrics()
        state = _read_state(model)
        logs = {}
        step = 0
        while step < steps and not model.stop_training:
            stretch = steps - step
            if steps_to_callback is not None:
                stretch = max(1, min(stretch, int(steps_to_callback())))
            callbacks.on_train_batch_begin(step)
            end = step + stretch
            if min(end, full) > step:
                logs, state = self._steps(state, self.x, order_device, step * batch_size,
                                          min(end, full) - step, batch_size)
            if end > full:  # the epoch's last, partial batch
                logs, state = self._steps(state, self.x, order_device, full * batch_size, 1,
                                          n - full * batch_size)
            step = end
            _write_state(model, state)
            callbacks.on_train_batch_end(step - 1, logs)
            state = _read_state(model)  # a callback may have changed variables
        epoch_logs = {k: float(np.asarray(v)) for k, v in logs.items()}
        callbacks.on_epoch_end(epoch, epoch_logs)
        callbacks.on_train_end(epoch_logs)
        return epoch_logs
