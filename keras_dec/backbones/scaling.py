"""Input scaling that travels with the model: a `Normalization` layer in front of the encoder.

`train_dec(scale="minmax" | "standard")` fits the scaling on the training
data, pretrains the autoencoder on the scaled data and gives DEC an encoder
that starts with the scaling layer. The saved `.keras` model, `predict` and
the exported SavedModel/TFLite graphs then take the raw features and scale
them the same way; there is no side file to lose.
"""

from __future__ import annotations

import keras
import numpy as np

from keras_dec.recipe import SCALINGS
from keras_dec.utils.validation import check_choice

LAYER_NAME = "input_scaling"


def fit_scaling(x: np.ndarray, method: str) -> keras.layers.Normalization | None:
    """A frozen `Normalization` layer scaling each feature of `x`, or None for "none".

    - "minmax": `(x - min) / (max - min)`, to [0, 1] on the training data;
    - "standard": `(x - mean) / std`.

    A constant feature (zero range or variance) becomes 0.

    Examples:
        >>> x = np.array([[0.0, 10.0], [4.0, 30.0]], "float32")
        >>> layer = fit_scaling(x, "minmax")
        >>> keras.ops.convert_to_numpy(layer(x)).tolist()
        [[0.0, 0.0], [1.0, 1.0]]
    """
    method = check_choice("scale", method, SCALINGS)
    if method == "none":
        return None
    x = np.asarray(x, dtype="float64").reshape(len(x), -1)
    if method == "minmax":
        low = x.min(axis=0)
        mean, variance = low, np.square(x.max(axis=0) - low)
    else:
        mean, variance = x.mean(axis=0), x.var(axis=0)
    return _layer(mean, variance)


class ScalingFit:
    """`fit_scaling` over row blocks seen one at a time (float64 sums), so a pass
    that does other work fits the scaling too: `ShardStream.check(visit=fit.add)`
    checks, hashes and measures a stream in one read.

    Min-max gives the same layer as `fit_scaling` on all the rows; the
    standard scaling's variance is `E[x^2] - E[x]^2`, equal to NumPy's
    two-pass variance up to rounding.

    Examples:
        >>> fit = ScalingFit("minmax")
        >>> fit.add(np.array([[1.0], [3.0]]))
        >>> fit.add(np.array([[5.0]]))
        >>> scale(np.array([[1.0], [3.0], [5.0]], "float32"), fit.layer()).ravel().tolist()
        [0.0, 0.5, 1.0]
        >>> ScalingFit("none").layer() is None
        True
    """

    def __init__(self, method: str):
        self.method = check_choice("scale", method, SCALINGS)
        self.n, self.low, self.high, self.total, self.squares = 0, None, None, 0.0, 0.0

    def add(self, block) -> None:
        """Counts the rows of `block` (any shape `(n, ...)`)."""
        if self.method == "none" or not len(block):
            return
        block = np.asarray(block, dtype="float64").reshape(len(block), -1)
        self.n += len(block)
        if self.method == "minmax":
            low, high = block.min(0), block.max(0)
            self.low = low if self.low is None else np.minimum(self.low, low)
            self.high = high if self.high is None else np.maximum(self.high, high)
        else:
            self.total = self.total + block.sum(0)
            self.squares = self.squares + np.square(block).sum(0)

    def layer(self) -> keras.layers.Normalization | None:
        """The frozen `Normalization` layer for the rows added, or None for "none"."""
        if self.method == "none":
            return None
        if not self.n:
            raise ValueError(f"No rows to fit the {self.method!r} scaling on.")
        if self.method == "minmax":
            return _layer(self.low, np.square(self.high - self.low))
        mean = self.total / self.n
        return _layer(mean, np.maximum(self.squares / self.n - np.square(mean), 0.0))


def _layer(mean, variance) -> keras.layers.Normalization:
    return keras.layers.Normalization(
        mean=mean.astype("float32"), variance=variance.astype("float32"), name=LAYER_NAME
    )


def scale(x: np.ndarray, layer: keras.layers.Normalization | None) -> np.ndarray:
    """`x` scaled by `layer` (the layer's own computation), as float32 NumPy."""
    if layer is None:
        return x
    out = [keras.ops.convert_to_numpy(layer(x[i:i + 65536])) for i in range(0, len(x), 65536)]
    return np.concatenate(out).astype("float32", copy=False)


def with_scaling(encoder: keras.Model, layer: keras.layers.Normalization | None) -> keras.Model:
    """The encoder taking raw features: `layer` first, then `encoder`."""
    if layer is None:
        return encoder
    inputs = keras.Input(encoder.input_shape[1:], name="features")
    return keras.Model(inputs, encoder(layer(inputs)), name="scaled_encoder")


def has_input_scaling(model: keras.Model) -> bool:
    """Whether `model` (or a model inside it) starts with the layer `with_scaling` adds."""
    return input_scaling_layer(model) is not None


def input_scaling_layer(model: keras.Model) -> keras.layers.Normalization | None:
    """The scaling layer `with_scaling` put in `model` (or a model inside it), or None."""
    return next((layer for layer in _layers(model) if layer.name == LAYER_NAME), None)


def _layers(model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _layers(layer)
