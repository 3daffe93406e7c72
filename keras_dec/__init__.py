"""keras-dec: Deep Embedded Clustering (Xie et al., 2016) for Keras 3: TensorFlow, JAX, PyTorch."""

from keras_dec.utils.tf_import import import_tensorflow_quietly, tensorflow_wanted

# Before Keras imports it, so that its INFO banner can be dropped. The JAX and
# PyTorch backends need no TensorFlow, but Keras imports it whenever it is
# installed (its serialization checks for tf.TensorShape).
if tensorflow_wanted():
    import_tensorflow_quietly()

from keras_dec.backbones.autoencoder import build_autoencoder, decoder_of  # noqa: E402
from keras_dec.backbones.conv_autoencoder import build_conv_autoencoder  # noqa: E402
from keras_dec.backbones.pretraining import pretrain_autoencoder  # noqa: E402
from keras_dec.callbacks.target_refresh import TargetRefresh  # noqa: E402
from keras_dec.datasets.shard_stream import ShardStream  # noqa: E402
from keras_dec.estimator import DECClustering  # noqa: E402
from keras_dec.layers.clustering_layer import ClusteringLayer  # noqa: E402
from keras_dec.layers.gradient_scale import GradientScale  # noqa: E402
from keras_dec.layers.image_augmentation import ImageAugmentation  # noqa: E402
from keras_dec.layers.mixture_layer import GaussianMixtureLayer  # noqa: E402
from keras_dec.metrics import (  # noqa: E402
    cluster_accuracy,
    evaluate_clustering,
    label_free_indices,
)
from keras_dec.models.dec import DEC  # noqa: E402
from keras_dec.models.idec import IDEC  # noqa: E402
from keras_dec.pipeline import format_summary, train_dec  # noqa: E402
from keras_dec.recipe import (  # noqa: E402
    RECIPES,
    Recipe,
    conv_recipe,
    idec_recipe,
    recipe_for,
)
from keras_dec.saving import load_model  # noqa: E402
from keras_dec.select_k import select_n_clusters  # noqa: E402
from keras_dec.target_distribution import kl_divergence, target_distribution  # noqa: E402
from keras_dec.version import __version__  # noqa: E402

__all__ = [
    "DEC",
    "DECClustering",
    "IDEC",
    "RECIPES",
    "ClusteringLayer",
    "GaussianMixtureLayer",
    "GradientScale",
    "ImageAugmentation",
    "Recipe",
    "ShardStream",
    "TargetRefresh",
    "__version__",
    "build_autoencoder",
    "build_conv_autoencoder",
    "cluster_accuracy",
    "conv_recipe",
    "decoder_of",
    "evaluate_clustering",
    "format_summary",
    "idec_recipe",
    "kl_divergence",
    "label_free_indices",
    "load_model",
    "pretrain_autoencoder",
    "recipe_for",
    "select_n_clusters",
    "target_distribution",
    "train_dec",
]
