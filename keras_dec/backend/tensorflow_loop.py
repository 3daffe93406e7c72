"""Training with the data held in one tensor, many steps per `tf.function` call (TensorFlow).

TensorFlow's analogue of the JAX `DeviceLoop`: `fit` would build a `tf.data`
pipeline from each epoch's reordered copy of the data (220 MB for
Fashion-MNIST) and run one step per call; here the rows are one tensor,
copied once, each epoch sends only its sample order, and a stretch of
steps is one `tf.function` call: a `tf.while_loop` of the model's own
`train_step` over batches gathered with `tf.gather`.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_dec.backend.stretch_loop import StretchLoop


class DeviceLoop(StretchLoop):
    """A compiled model's training steps over data kept in one tensor (TensorFlow).

    Args:
        model: a compiled `keras.Model` (the autoencoder, or `DEC`).
        x: float array `(n_samples, ...)`, copied to a tensor once.
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
        # The data is an argument, not a capture: a captured tensor would be
        # embedded in the graph as a constant.
        self._steps = tf.function(self._run_steps, reduce_retracing=True)

    def to_device(self, x):
        return tf.convert_to_tensor(x)

    def order_on_device(self, order):
        return tf.convert_to_tensor(order)

    def stretch(self, order, first, n_steps, batch_size):
        return self._steps(self.x, order, tf.constant(first, tf.int32),
                           tf.constant(n_steps, tf.int32), batch_size)

    def _run_steps(self, data, order, first, n_steps, batch_size):
        """`n_steps` steps on batches `data[order[first + i*batch_size:][:batch_size]]`."""

        def step(i):
            index = tf.slice(order, [first + i * batch_size], [batch_size])
            x = tf.gather(data, index)
            return self.model.train_step((x, x) if self.pairs else (x,))

        # The first step gives the logs' structure the loop carries (n_steps >= 1).
        logs = step(0)
        _, logs = tf.while_loop(lambda i, _: i < n_steps, lambda i, _: (i + 1, step(i)),
                                [tf.constant(1), logs])
        return logs
