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
from jax import numpy as jnp

from keras_dec.backend.stretch_loop import StretchLoop


def _variable_groups(model):
    return (model.trainable_variables, model.non_trainable_variables,
            model.optimizer.variables, model.metrics_variables)


def _read_state(model):
    return tuple([v.value for v in group] for group in _variable_groups(model))


def _write_state(model, state):
    for group, values in zip(_variable_groups(model), state, strict=True):
        for variable, value in zip(group, values, strict=True):
            variable.assign(value)


class DeviceLoop(StretchLoop):
    """A compiled model's training steps over data kept on the device (JAX).

    A stretch is one `jax.jit` call: a `lax.fori_loop` of the model's own
    stateless `train_step(state, data)`; the state lives outside the model's
    variables between the stretch's start and end.

    Args:
        model: a compiled `keras.Model` (the autoencoder, or `DEC`).
        x: float array `(n_samples, ...)`, copied to the device once.
        batch_size: int, samples per step.
        pairs: bool, train on `(x, x)` (the autoencoder) instead of `(x,)`.

    Examples:
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
        super().__init__(model, x, batch_size, pairs)
        # The data is an argument, not a closure: a captured array would be
        # compiled into the program as a constant.
        self._steps = jax.jit(self._run_steps, static_argnums=(5,))
        self._state = None

    def to_device(self, x):
        return jax.device_put(x)

    def order_on_device(self, order):
        return jax.device_put(order)

    def start(self):
        self._state = _read_state(self.model)

    def stretch(self, order, first, n_steps, batch_size):
        logs, self._state = self._steps(self._state, self.x, order, first, n_steps, batch_size)
        return logs

    def end(self):
        _write_state(self.model, self._state)

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
