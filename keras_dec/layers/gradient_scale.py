"""Identity on the way forward, a scaled gradient on the way back: a slower-learning part."""

from __future__ import annotations

import keras
from keras import ops

from keras_dec.utils.validation import check_positive_float


@keras.saving.register_keras_serializable(package="keras_dec")
class GradientScale(keras.layers.Layer):
    """Passes its input through and multiplies the gradient flowing back by `scale`.

    Under SGD with momentum, scaling the gradient of every weight before
    this layer by `scale` is the same as scaling their learning rate by
    `scale`. DEC with a manifold stage puts it between the encoder and the
    manifold head: the head stretches the embedding (4-35x on the small
    tables measured, about 1x on the digits), so a step of the encoder moves
    the head's output that much further than it moves the embedding, and
    DEC's step size, right for the embedding, can throw the clusters
    together. Scaling the encoder's gradient by 1 / gain^2 gives its steps
    the effect on the head's output that plain DEC's steps have on the
    embedding.

    In inference (`training` false or None) it returns its input unchanged,
    so exported graphs carry no extra op; in training the value is still
    exactly the input (`stop_gradient(x) + scale * (x - stop_gradient(x))`).

    Args:
        scale: float > 0, the gradient's factor.
        **kwargs: base layer keyword arguments (`name`, `dtype`).

    Examples:
        >>> import numpy as np
        >>> layer = GradientScale(0.25)
        >>> x = np.ones((2, 3), "float32")
        >>> bool((np.asarray(layer(x, training=True)) == x).all())
        True
        >>> layer.get_config()["scale"]
        0.25
    """

    def __init__(self, scale: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = check_positive_float("scale", scale)

    def call(self, inputs, training=None):
        if not training or self.scale == 1.0:
            return inputs
        constant = ops.stop_gradient(inputs)
        return constant + self.scale * (inputs - constant)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "scale": self.scale}
