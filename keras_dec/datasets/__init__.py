"""Data loaders: bundled digits, MNIST / Fashion-MNIST IDX files, user arrays."""

from keras_dec.datasets.arrays import load_array
from keras_dec.datasets.digits import load_digits
from keras_dec.datasets.idx import read_idx
from keras_dec.datasets.mnist import load_fashion_mnist, load_mnist

__all__ = ["load_array", "load_digits", "load_fashion_mnist", "load_mnist", "read_idx"]
