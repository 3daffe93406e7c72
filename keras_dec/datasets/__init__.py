"""Data loaders: bundled digits, MNIST / Fashion-MNIST IDX files, user arrays, shards."""

from keras_dec.datasets.arrays import load_array
from keras_dec.datasets.digits import load_digits
from keras_dec.datasets.idx import read_idx
from keras_dec.datasets.mnist import load_fashion_mnist, load_mnist
from keras_dec.datasets.shard_stream import ShardStream
from keras_dec.datasets.shards import list_shards, read_shard, write_shard

__all__ = ["ShardStream", "list_shards", "load_array", "load_digits", "load_fashion_mnist",
           "load_mnist", "read_idx", "read_shard", "write_shard"]
