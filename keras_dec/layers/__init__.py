from keras_dec.layers.clustering_layer import ClusteringLayer

__all__ = ["ClusteringLayer"]
