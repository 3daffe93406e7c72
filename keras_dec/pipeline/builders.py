"""Recipe to models: the compiled autoencoder, DEC or IDEC, and the augmentation layer.

Pure functions of the recipe and the data's shape: no training, no I/O.
"""

from __future__ import annotations

import keras
import numpy as np

from keras_dec.backbones.autoencoder import build_autoencoder, decoder_of, encoder_of
from keras_dec.backbones.conv_autoencoder import build_conv_autoencoder, conv_image_shape
from keras_dec.backbones.scaling import with_scaling
from keras_dec.datasets.image_shapes import image_shape_of
from keras_dec.layers.image_augmentation import ImageAugmentation
from keras_dec.manifold.head import stack_manifold_head
from keras_dec.models.dec import DEC
from keras_dec.models.idec import IDEC
from keras_dec.pipeline.data import TrainingData
from keras_dec.pipeline.seeding import stage_seed
from keras_dec.recipe import Recipe


def required_image_shape(recipe: Recipe, data: TrainingData,
                         data_source: str | None) -> tuple[int, ...] | None:
    """The image shape that `recipe.augment` or the conv backbone needs, else None.

    Refuses, naming the option, a recipe that needs images for data that is
    not (a table, or a stream under augmentation), and image sizes the conv
    backbone cannot take.
    """
    augment = recipe.augment != "none"
    if augment and not data.in_memory:
        raise ValueError(f"Augmentation (`augment={recipe.augment!r}`) needs the data in memory; "
                         f"a ShardStream streams it. Received: augment={recipe.augment!r} with a "
                         "ShardStream")
    options = [text for text, wanted in ((f"Augmentation (`augment={recipe.augment!r}`)", augment),
                                         ("the conv backbone", recipe.backbone == "conv"))
               if wanted]
    if not options:
        return None
    input_shape = data.input_shape
    shape = image_shape_of(input_shape, data_source)
    if shape is None or int(np.prod(shape)) != int(np.prod(input_shape)):
        who = " and ".join(options)
        raise ValueError(
            f"{who[0].upper()}{who[1:]} need{'s' if len(options) == 1 else ''} image data, and "
            "`x` is not: pass it as "
            "(n_samples, height, width[, channels]), or flat with `data_source` naming a "
            f"built-in image data set. Received: x with per-sample shape {tuple(input_shape)} "
            f"and data_source={data_source!r}"
        )
    if recipe.backbone == "conv":
        conv_image_shape(shape)  # a clear error for sizes it cannot take
    return shape


def augments(recipe: Recipe, stage: str) -> bool:
    """Whether `recipe.augment` applies to the "pretrain" or the "dec" stage."""
    return recipe.augment in ("all", "pretrain" if stage == "pretrain" else "clustering")


def build_augmentation(recipe: Recipe, image_shape, seed: int | None, stage: str,
                       epoch: int = 0) -> ImageAugmentation | None:
    """DEC-DA's augmentation for a stage, seeded by (seed, stage, epoch); None without."""
    if not augments(recipe, stage):
        return None
    return ImageAugmentation(image_shape, recipe.augment_shift, recipe.augment_rotation,
                             seed=stage_seed(seed, stage, epoch))


def augmented_rows(recipe: Recipe, image_shape, seed: int | None, rows: np.ndarray,
                   epoch: int) -> np.ndarray | None:
    """A pretraining epoch's augmented copy of `rows`, or None where the recipe does not
    augment pretraining.

    A fresh draw per epoch, a function of (seed, epoch), so a resumed run
    sees the images an uninterrupted one sees (DEC-DA pretrains the
    autoencoder to reconstruct augmented images).
    """
    layer = build_augmentation(recipe, image_shape, seed, "pretrain", epoch)
    if layer is None:
        return None
    return np.concatenate([
        keras.ops.convert_to_numpy(layer(rows[i:i + 4096], training=True))
        for i in range(0, len(rows), 4096)
    ])


def build_pretraining_autoencoder(recipe: Recipe, n_features: int, n_samples: int,
                                  image_shape=None, seed: int | None = None) -> keras.Model:
    """The recipe's autoencoder, compiled with its pretraining optimizer and MSE."""
    if recipe.backbone == "conv":
        autoencoder, _ = build_conv_autoencoder(image_shape, recipe.dims[-1],
                                                recipe.conv_filters, seed=seed)
    else:
        autoencoder, _ = build_autoencoder(n_features, dims=recipe.dims, seed=seed)
    rate = recipe.pretrain_learning_rate
    epochs = recipe.pretrain_epochs_for(n_samples)
    if recipe.pretrain_schedule == "cosine" and epochs:
        steps = -(-n_samples // recipe.pretrain_batch_size) * epochs
        rate = keras.optimizers.schedules.CosineDecay(rate, decay_steps=steps)
    if recipe.pretrain_optimizer == "adam":
        optimizer = keras.optimizers.Adam(learning_rate=rate,
                                          global_clipnorm=recipe.pretrain_clipnorm)
    else:
        optimizer = keras.optimizers.SGD(learning_rate=rate, momentum=recipe.pretrain_momentum,
                                         global_clipnorm=recipe.pretrain_clipnorm)
    autoencoder.compile(optimizer=optimizer, loss="mse")
    return autoencoder


def build_clustering_model(recipe: Recipe, autoencoder: keras.Model, n_clusters: int,
                           scaling: keras.layers.Normalization | None = None,
                           augmentation: ImageAugmentation | None = None,
                           head: keras.Model | None = None,
                           encoder_gradient_scale: float = 1.0) -> DEC:
    """DEC (or IDEC, or DEC with a Gaussian mixture's posterior, by `recipe.clustering`)
    on the autoencoder's encoder, uncompiled.

    The encoder starts with `scaling`, so the model takes raw features, and
    ends with the manifold `head` when there is one: one network, encoder ->
    head -> clustering layer, which saves and exports as one model. Under a
    head, the encoder's gradient is scaled by `encoder_gradient_scale`
    (`stack_manifold_head`).
    """
    encoder = encoder_of(autoencoder)
    if head is not None:
        encoder = stack_manifold_head(encoder, head, encoder_gradient_scale)
    encoder = with_scaling(encoder, scaling)
    options = {"n_clusters": n_clusters, "alpha": recipe.alpha,
               "update_interval": recipe.update_interval, "tol": recipe.tol,
               "augmentation": augmentation}
    if recipe.clustering == "idec":
        return IDEC(encoder, decoder_of(autoencoder), gamma=recipe.gamma, **options)
    posterior = "gaussian_mixture" if recipe.clustering == "gmm" else "student_t"
    return DEC(encoder, posterior=posterior, **options)


def compile_clustering_model(recipe: Recipe, dec: DEC) -> DEC:
    """Compiles DEC with the recipe's SGD (learning rate, momentum)."""
    dec.compile(optimizer=keras.optimizers.SGD(learning_rate=recipe.learning_rate,
                                               momentum=recipe.momentum))
    return dec
