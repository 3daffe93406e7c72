"""keras-dec: Deep Embedded Clustering (Xie et al., 2016) for Keras 3 / TensorFlow.

Public names are imported on first use (PEP 562), so `import keras_dec` and
the `keras-dec` command start without loading TensorFlow until needed.
"""

import importlib

from keras_dec.version import __version__

_EXPORTS = {
    "DEC": "keras_dec.models.dec",
    "ClusteringLayer": "keras_dec.layers.clustering_layer",
    "TargetRefresh": "keras_dec.callbacks.target_refresh",
    "Recipe": "keras_dec.recipe",
    "build_autoencoder": "keras_dec.backbones.autoencoder",
    "pretrain_autoencoder": "keras_dec.backbones.pretraining",
    "cluster_accuracy": "keras_dec.metrics",
    "evaluate_clustering": "keras_dec.metrics",
    "kl_divergence": "keras_dec.target_distribution",
    "target_distribution": "keras_dec.target_distribution",
    "train_dec": "keras_dec.pipeline",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'keras_dec' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
