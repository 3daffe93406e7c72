"""DCEC's convolutional autoencoder, taking and giving flat rows like the dense one."""

from __future__ import annotations

from collections.abc import Sequence

import keras

from keras_dec.utils.validation import check_int

# DCEC's filters (Guo et al. 2017): three convolutions, 32-64-128.
DEFAULT_FILTERS = (32, 64, 128)


def conv_image_shape(image_shape) -> tuple[int, int, int]:
    """`(height, width, channels)` the convolutional autoencoder accepts, or a ValueError.

    Two stride-2 convolutions need both sides divisible by 4; the third one
    (padding "same" when side / 4 is even, "valid" when odd, as in DCEC)
    needs side / 4 >= 2 and the same parity on both sides, so that the
    transposed convolutions give back exactly the input size.

    Examples:
        >>> conv_image_shape((28, 28)), conv_image_shape((8, 8, 1))
        ((28, 28, 1), (8, 8, 1))
    """
    shape = tuple(image_shape) + ((1,) if len(tuple(image_shape)) == 2 else ())
    height, width = shape[:2]
    if (len(shape) != 3 or height % 4 or width % 4 or min(height, width) < 8
            or (height // 4) % 2 != (width // 4) % 2):
        raise ValueError(
            "The convolutional backbone needs images whose height and width are multiples "
            "of 4, at least 8, with height/4 and width/4 both even or both odd (e.g. 8x8, "
            f"28x28, 32x32). Received: image_shape={tuple(image_shape)}"
        )
    return shape


def build_conv_autoencoder(
    image_shape: Sequence[int],
    embedding_dim: int = 10,
    filters: Sequence[int] = DEFAULT_FILTERS,
    seed: int | None = None,
) -> tuple[keras.Model, keras.Model]:
    """Builds DCEC's convolutional autoencoder and its encoder, on flat inputs.

    Encoder: 5x5/2, 5x5/2 and 3x3/2 convolutions (ReLU), then a linear
    `embedding_dim` layer; the decoder mirrors it with a dense layer and
    transposed convolutions, the last one linear. Both models take flat rows
    of `height * width * channels` features (reshaped inside) and the
    autoencoder returns flat rows, so DEC, `predict`, the exported
    SavedModel and TFLite take the same flat features as with the dense
    backbone.

    The layers are named `encoder_0..encoder_5` and `decoder_5..decoder_0`
    (reshapes and flattens included), so `encoder_of` and `decoder_of` find
    the encoder and decoder as for `build_autoencoder`.

    Args:
        image_shape: `(height, width)` or `(height, width, channels)`; see
            `conv_image_shape` for the sizes it accepts.
        embedding_dim: int, the embedding width (DCEC: 10).
        filters: three ints, the convolutions' filters (DCEC: 32, 64, 128).
        seed: int or None, seed of the Glorot-uniform kernel initializers.

    Returns:
        `(autoencoder, encoder)`, functional `keras.Model`s sharing layers.

    Examples:
        >>> autoencoder, encoder = build_conv_autoencoder((8, 8), embedding_dim=4)
        >>> encoder.input_shape, encoder.output_shape, autoencoder.output_shape
        ((None, 64), (None, 4), (None, 64))

    Reference:
        Guo, Liu, Zhu & Yin, "Deep Clustering with Convolutional
        Autoencoders", ICONIP 2017.
    """
    height, width, channels = conv_image_shape(image_shape)
    embedding_dim = check_int("embedding_dim", embedding_dim, 1)
    filters = tuple(filters)
    if len(filters) != 3:
        raise ValueError(f"`filters` must list three convolutions' filters. Received: "
                         f"filters={filters!r}")
    for i, f in enumerate(filters):
        check_int(f"filters[{i}]", f, 1)
    third = "same" if (height // 4) % 2 == 0 else "valid"
    inner = (height // 8, width // 8)  # the third convolution's output size

    def init(i):
        return keras.initializers.GlorotUniform(None if seed is None else seed + i)

    def conv(kind, n, kernel, padding, name, i, activation="relu"):
        return kind(n, kernel, strides=2, padding=padding, activation=activation,
                    kernel_initializer=init(i), name=name)

    inputs = keras.Input(shape=(height * width * channels,), name="features")
    h = keras.layers.Reshape((height, width, channels), name="encoder_0")(inputs)
    h = conv(keras.layers.Conv2D, filters[0], 5, "same", "encoder_1", 0)(h)
    h = conv(keras.layers.Conv2D, filters[1], 5, "same", "encoder_2", 1)(h)
    h = conv(keras.layers.Conv2D, filters[2], 3, third, "encoder_3", 2)(h)
    h = keras.layers.Flatten(name="encoder_4")(h)
    embedding = keras.layers.Dense(embedding_dim, kernel_initializer=init(3),
                                   name="encoder_5")(h)
    h = keras.layers.Dense(inner[0] * inner[1] * filters[2], activation="relu",
                           kernel_initializer=init(4), name="decoder_5")(embedding)
    h = keras.layers.Reshape((*inner, filters[2]), name="decoder_4")(h)
    h = conv(keras.layers.Conv2DTranspose, filters[1], 3, third, "decoder_3", 5)(h)
    h = conv(keras.layers.Conv2DTranspose, filters[0], 5, "same", "decoder_2", 6)(h)
    h = conv(keras.layers.Conv2DTranspose, channels, 5, "same", "decoder_1", 7,
             activation=None)(h)
    outputs = keras.layers.Flatten(name="decoder_0")(h)
    autoencoder = keras.Model(inputs, outputs, name="conv_autoencoder")
    encoder = keras.Model(inputs, embedding, name="conv_encoder")
    return autoencoder, encoder
