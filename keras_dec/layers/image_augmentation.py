"""DEC-DA's image augmentation: small random shifts and rotations of flat or image inputs."""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import ops

from keras_dec.utils.validation import check_degrees, check_int, check_side_fraction


@keras.saving.register_keras_serializable(package="keras_dec")
class ImageAugmentation(keras.layers.Layer):
    """Randomly shifts and rotates each image of a batch, in training only.

    The transformation of DEC-DA (Guo et al. 2018, their
    `ImageDataGenerator(width_shift_range=0.1, height_shift_range=0.1,
    rotation_range=10)`), built from Keras' `RandomTranslation` and
    `RandomRotation` (bilinear, edges filled with the nearest pixel), so it
    runs inside a compiled training step on TensorFlow, JAX and PyTorch.
    Inputs may be flat rows, `(batch, height * width * channels)`, as DEC's
    dense encoder takes them: they are reshaped to `image_shape`,
    transformed and flattened back. Outside training the input is returned
    unchanged.

    The random state (two `SeedGenerator`s) is saved with the layer, so a
    model saved mid-training resumes with the same draws as a run that was
    never stopped.

    Args:
        image_shape: tuple `(height, width)` or `(height, width, channels)`.
        shift: float in [0, 1), the largest shift, as a fraction of the
            height and of the width (DEC-DA: 0.1).
        rotation: float in [0, 180], the largest rotation in degrees
            (DEC-DA: 10).
        seed: int or None, seed of the random draws.
        **kwargs: base `keras.layers.Layer` keyword arguments.

    Call arguments:
        inputs: a batch of images, flat or of `image_shape`.
        training: bool, transform only when True.

    Returns:
        The batch, transformed, in the input's shape.

    Examples:
        >>> import keras, numpy as np
        >>> layer = ImageAugmentation((8, 8), seed=0)
        >>> x = np.random.default_rng(0).random((4, 64)).astype("float32")
        >>> shifted = keras.ops.convert_to_numpy(layer(x, training=True))
        >>> shifted.shape, bool(np.all(keras.ops.convert_to_numpy(layer(x)) == x))
        ((4, 64), True)

    Reference:
        Guo, Zhu, Liu & Yin, "Deep Embedded Clustering with Data
        Augmentation", ACML 2018.
    """

    def __init__(self, image_shape: Sequence[int], shift: float = 0.1, rotation: float = 10.0,
                 seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        try:
            image_shape = tuple(image_shape)
        except TypeError:
            image_shape = None
        if image_shape is None or len(image_shape) not in (2, 3):
            raise ValueError(
                "`image_shape` must be (height, width) or (height, width, channels). "
                f"Received: image_shape={image_shape!r}"
            )
        self.image_shape = tuple(
            check_int(f"image_shape[{i}]", d, 1) for i, d in enumerate(image_shape)
        )
        if len(self.image_shape) == 2:
            self.image_shape += (1,)
        self.shift = check_side_fraction("shift", shift)
        self.rotation = check_degrees("rotation", rotation)
        self.seed = None if seed is None else check_int("seed", seed, 0)
        self.translation = keras.layers.RandomTranslation(
            self.shift, self.shift, fill_mode="nearest", seed=self.seed, name="translation"
        )
        self.rotation_layer = keras.layers.RandomRotation(
            self.rotation / 360.0, fill_mode="nearest",
            seed=None if self.seed is None else self.seed + 1, name="rotation",
        )

    def build(self, input_shape):
        # Nothing to build: the shift and rotation layers hold only random state.
        self.built = True

    def call(self, inputs, training=None):
        if not training:
            return inputs
        shape = ops.shape(inputs)
        images = ops.reshape(inputs, (-1, *self.image_shape))
        if self.shift > 0:
            images = self.translation(images, training=True)
        if self.rotation > 0:
            images = self.rotation_layer(images, training=True)
        return ops.reshape(ops.cast(images, inputs.dtype), shape)

    def compute_output_shape(self, input_shape):
        return input_shape

    # The random state is not a weight, so Keras would not save it.
    def save_own_variables(self, store):
        store["translation_seed"] = self.translation.generator.state
        store["rotation_seed"] = self.rotation_layer.generator.state

    def load_own_variables(self, store):
        self.translation.generator.state.assign(store["translation_seed"])
        self.rotation_layer.generator.state.assign(store["rotation_seed"])

    def get_config(self):
        return {
            **super().get_config(),
            "image_shape": self.image_shape,
            "shift": self.shift,
            "rotation": self.rotation,
            "seed": self.seed,
        }
