from keras_dec.layers.clustering_layer import ClusteringLayer
from keras_dec.layers.gradient_scale import GradientScale
from keras_dec.layers.image_augmentation import ImageAugmentation
from keras_dec.layers.mixture_layer import GaussianMixtureLayer

__all__ = ["ClusteringLayer", "GaussianMixtureLayer", "GradientScale", "ImageAugmentation"]
