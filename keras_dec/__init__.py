"""keras-dec: Deep Embedded Clustering (Xie et al., 2016) for Keras 3 / TensorFlow."""

from keras_dec.backbones.autoencoder import build_autoencoder
from keras_dec.backbones.pretraining import pretrain_autoencoder
from keras_dec.callbacks.target_refresh import TargetRefresh
from keras_dec.layers.clustering_layer import ClusteringLayer
from keras_dec.metrics import cluster_accuracy, evaluate_clustering
from keras_dec.models.dec import DEC
from keras_dec.target_distribution import kl_divergence, target_distribution
from keras_dec.version import __version__

__all__ = [
    "DEC",
    "ClusteringLayer",
    "TargetRefresh",
    "__version__",
    "build_autoencoder",
    "cluster_accuracy",
    "evaluate_clustering",
    "kl_divergence",
    "pretrain_autoencoder",
    "target_distribution",
]
