"""The DEC stacked autoencoder, built with the functional API."""

from __future__ import annotations

from collections.abc import Sequence

import keras

from keras_dec.utils.validation import check_int

# The paper's architecture for every data set: d-500-500-2000-10.
DEFAULT_DIMS = (500, 500, 2000, 10)


def default_initializer(seed: int | None = None) -> keras.initializers.Initializer:
    """VarianceScaling(1/3, fan_in, uniform), the init of the reference Keras port."""
    return keras.initializers.VarianceScaling(
        scale=1.0 / 3.0, mode="fan_in", distribution="uniform", seed=seed
    )


def build_autoencoder(
    input_dim: int,
    dims: Sequence[int] = DEFAULT_DIMS,
    activation: str = "relu",
    kernel_initializer: str | keras.initializers.Initializer | None = None,
    seed: int | None = None,
) -> tuple[keras.Model, keras.Model]:
    """Builds the symmetric DEC autoencoder and its encoder.

    Hidden layers use `activation`; the embedding layer (last encoder layer)
    and the reconstruction layer are linear, as in the paper. Encoder and
    autoencoder share their layers, so training one trains the other.

    Args:
        input_dim: int, the number of input features `d`.
        dims: sequence of int, the encoder widths; the last one is the
            embedding size. Defaults to the paper's `(500, 500, 2000, 10)`.
        activation: str, activation of the hidden layers.
        kernel_initializer: initializer for every Dense kernel; defaults to
            VarianceScaling(1/3, fan_in, uniform).
        seed: int or None, seed of the default initializer.

    Returns:
        `(autoencoder, encoder)`: two functional `keras.Model`s. The encoder
        layers are named `encoder_0..encoder_{n-1}` and the decoder layers
        `decoder_{n-1}..decoder_0` (`decoder_i` mirrors `encoder_i`).

    Examples:
        >>> autoencoder, encoder = build_autoencoder(64, dims=(32, 8))
        >>> encoder.output_shape, autoencoder.output_shape
        ((None, 8), (None, 64))
    """
    input_dim = check_int("input_dim", input_dim, 1)
    dims = tuple(dims)
    if not dims:
        raise ValueError(f"`dims` must list at least one layer width. Received: dims={dims!r}")
    for i, width in enumerate(dims):
        check_int(f"dims[{i}]", width, 1)
    if kernel_initializer is None:
        kernel_initializer = default_initializer(seed)
    n = len(dims)

    inputs = keras.Input(shape=(input_dim,), name="features")
    h = inputs
    for i, width in enumerate(dims):
        h = keras.layers.Dense(
            width,
            activation=None if i == n - 1 else activation,
            kernel_initializer=kernel_initializer,
            name=f"encoder_{i}",
        )(h)
    embedding = h
    for i in reversed(range(n)):
        width = input_dim if i == 0 else dims[i - 1]
        h = keras.layers.Dense(
            width,
            activation=None if i == 0 else activation,
            kernel_initializer=kernel_initializer,
            name=f"decoder_{i}",
        )(h)
    autoencoder = keras.Model(inputs, h, name="autoencoder")
    encoder = keras.Model(inputs, embedding, name="encoder")
    return autoencoder, encoder


def encoder_of(autoencoder: keras.Model) -> keras.Model:
    """The encoder of an autoencoder from `build_autoencoder`, sharing its layers.

    For an autoencoder that comes back without its encoder, e.g. one loaded
    from a `.keras` checkpoint: the embedding is the output of the last
    `encoder_i` layer.

    Examples:
            >>> autoencoder, _ = build_autoencoder(64, dims=(32, 4))
            >>> encoder_of(autoencoder).output.shape
            (None, 4)
    """
    n = sum(layer.name.startswith("encoder_") for layer in autoencoder.layers)
    embedding = autoencoder.get_layer(f"encoder_{n - 1}").output
    return keras.Model(autoencoder.input, embedding, name="encoder")


def decoder_of(autoencoder: keras.Model) -> keras.Model:
    """The decoder of an autoencoder from `build_autoencoder`, sharing its layers.

    A functional model from a new embedding input through the `decoder_i`
    layers (`decoder_{n-1}` first) to the reconstruction, as IDEC needs it.

    Examples:
            >>> autoencoder, _ = build_autoencoder(64, dims=(32, 4))
            >>> decoder = decoder_of(autoencoder)
            >>> decoder.input_shape, decoder.output_shape
            ((None, 4), (None, 64))
    """
    n = sum(layer.name.startswith("decoder_") for layer in autoencoder.layers)
    if n == 0:
        raise ValueError(
            "`autoencoder` must come from build_autoencoder (layers decoder_0..decoder_{n-1}). "
            f"Received: a model with layers {[layer.name for layer in autoencoder.layers]}"
        )
    width = encoder_of(autoencoder).output.shape[-1]
    inputs = keras.Input(shape=(width,), name="embedding")
    h = inputs
    for i in reversed(range(n)):
        h = autoencoder.get_layer(f"decoder_{i}")(h)
    return keras.Model(inputs, h, name="decoder")
