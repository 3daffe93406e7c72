"""Autoencoder pretraining: end-to-end, or the paper's greedy layer-wise recipe."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import keras
import numpy as np
from numpy.typing import ArrayLike

from keras_dec.recipe import PRETRAIN_METHODS as METHODS
from keras_dec.utils.data import inputs_only, is_tf_dataset
from keras_dec.utils.validation import check_features, check_fraction, check_int

if TYPE_CHECKING:
    import tensorflow as tf


def _clone_optimizer(optimizer, default) -> keras.optimizers.Optimizer:
    """A fresh optimizer with the same settings (each stage needs its own state)."""
    if optimizer is None:
        return default()
    optimizer = keras.optimizers.get(optimizer)
    return optimizer.__class__.from_config(optimizer.get_config())



def pretrain_autoencoder(
    autoencoder: keras.Model,
    x: ArrayLike | tf.data.Dataset,
    method: str = "end_to_end",
    epochs: int = 300,
    batch_size: int = 256,
    optimizer: str | keras.optimizers.Optimizer | None = None,
    layerwise_epochs: int | None = None,
    dropout_rate: float = 0.2,
    callbacks: Sequence[keras.callbacks.Callback] | None = None,
    verbose: int | str = "auto",
    jit_compile: bool | str = "auto",
    seed: int | None = None,
    check_input: bool = True,
) -> keras.callbacks.History:
    """Pretrains an autoencoder to reconstruct its input (mean squared error).

    `method="end_to_end"` trains the whole autoencoder at once, the recipe of
    the widely used Keras port (SGD(lr=1.0, momentum=0.9), 300 epochs,
    batch 256). `method="layerwise"` is the paper's recipe: each encoder layer
    with its mirrored decoder layer is trained as a one-layer denoising
    autoencoder on the previous layer's output (20% dropout on its input and
    on its hidden layer), then the whole autoencoder is fine-tuned end to end
    without dropout. Layer-wise pretraining needs an autoencoder made by
    `build_autoencoder` (it looks its layers up by name).

    Args:
        autoencoder: `keras.Model` mapping `x` to a reconstruction of `x`.
        x: float array `(n_samples, n_features)` or a batched
            `tf.data.Dataset` yielding `x` or `(x, y)`.
        method: str, `"end_to_end"` or `"layerwise"`.
        epochs: int, epochs of end-to-end training (the fine-tuning stage for
            `"layerwise"`).
        batch_size: int, used when `x` is an array.
        optimizer: optimizer or identifier; a fresh copy is made for each
            stage. Default SGD(1.0, momentum=0.9) end to end, SGD(0.1, 0.9)
            for the layer-wise stages (the paper's rate).
        layerwise_epochs: int, epochs per greedy layer (default `epochs`).
        dropout_rate: float in [0, 1), the corruption rate of the greedy stage.
        callbacks: list of Keras callbacks for the end-to-end stage.
        verbose: passed to `fit`.
        jit_compile: passed to `compile` (XLA).
        seed: int or None, seed of the dropout layers.
        check_input: bool, check an array `x` (numbers, finite, the
            autoencoder's width). `train_dec` passes False for the data it
            checked on entry, as scikit-learn's trees take `check_input`.

    Returns:
        The `History` of the end-to-end stage.

    Examples:
        >>> import numpy as np
        >>> from keras_dec.backbones import build_autoencoder
        >>> autoencoder, _ = build_autoencoder(8, dims=(4, 2))
        >>> x = np.random.default_rng(0).random((32, 8)).astype("float32")
        >>> history = pretrain_autoencoder(autoencoder, x, epochs=2, verbose=0)
        >>> len(history.history["loss"])
        2
    """
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {METHODS}. Received: method={method!r}")
    epochs = check_int("epochs", epochs, 0)
    batch_size = check_int("batch_size", batch_size, 1)
    dropout_rate = check_fraction("dropout_rate", dropout_rate)
    if dropout_rate >= 1.0:
        raise ValueError(f"`dropout_rate` must be < 1. Received: dropout_rate={dropout_rate}")
    if layerwise_epochs is None:
        layerwise_epochs = epochs
    layerwise_epochs = check_int("layerwise_epochs", layerwise_epochs, 0)

    if is_tf_dataset(x):
        features = inputs_only(x)
    elif check_input:
        features = check_features(x, "x", n_features=autoencoder.input_shape[1:])
    else:
        features = x

    if method == "layerwise":
        _greedy_layerwise(
            autoencoder,
            features,
            epochs=layerwise_epochs,
            batch_size=batch_size,
            optimizer=optimizer,
            dropout_rate=dropout_rate,
            verbose=verbose,
            jit_compile=jit_compile,
            seed=seed,
        )

    autoencoder.compile(
        optimizer=_clone_optimizer(
            optimizer, lambda: keras.optimizers.SGD(learning_rate=1.0, momentum=0.9)
        ),
        loss="mse",
        jit_compile=jit_compile,
    )
    if is_tf_dataset(features):
        return autoencoder.fit(
            features.map(lambda b: (b, b)),
            epochs=epochs,
            callbacks=callbacks,
            verbose=verbose,
        )
    return autoencoder.fit(
        features,
        features,
        batch_size=batch_size,
        epochs=epochs,
        shuffle=True,
        callbacks=callbacks,
        verbose=verbose,
    )


def _greedy_layerwise(
    autoencoder, features, epochs, batch_size, optimizer, dropout_rate, verbose, jit_compile, seed
):
    names = {layer.name for layer in autoencoder.layers}
    n_layers = sum(1 for name in names if name.startswith("encoder_"))
    if n_layers == 0 or any(
        f"{side}_{i}" not in names for i in range(n_layers) for side in ("encoder", "decoder")
    ):
        raise ValueError(
            "`method='layerwise'` needs an autoencoder made by `build_autoencoder` "
            "(layers named encoder_i and decoder_i). Received: an autoencoder with "
            f"layers {sorted(names)}"
        )
    current = features
    for i in range(n_layers):
        encoder_layer = autoencoder.get_layer(f"encoder_{i}")
        decoder_layer = autoencoder.get_layer(f"decoder_{i}")
        in_dim = encoder_layer.kernel.shape[0]
        inputs = keras.Input(shape=(in_dim,))
        h = keras.layers.Dropout(dropout_rate, seed=seed)(inputs)
        h = encoder_layer(h)
        h = keras.layers.Dropout(dropout_rate, seed=seed)(h)
        outputs = decoder_layer(h)
        pair = keras.Model(inputs, outputs, name=f"denoising_pair_{i}")
        pair.compile(
            optimizer=_clone_optimizer(
                optimizer, lambda: keras.optimizers.SGD(learning_rate=0.1, momentum=0.9)
            ),
            loss="mse",
            jit_compile=jit_compile,
        )
        if is_tf_dataset(current):
            pair.fit(current.map(lambda b: (b, b)), epochs=epochs, verbose=verbose)
        else:
            pair.fit(
                current, current, batch_size=batch_size, epochs=epochs, shuffle=True,
                verbose=verbose,
            )
        # The next pair trains on this layer's outputs, computed once (N x width
        # floats). A Keras layer inside `tf.data.map` would only run on TensorFlow.
        current = np.asarray(
            keras.Sequential([keras.Input(shape=(in_dim,)), encoder_layer]).predict(
                current, batch_size=4096, verbose=0
            )
        )
