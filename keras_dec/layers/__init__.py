from keras_dec.layers.clustering_layer import ClusteringLayer
from keras_dec.layers.image_augmentation import ImageAugmentation

__all__ = ["ClusteringLayer", "ImageAugmentation"]
