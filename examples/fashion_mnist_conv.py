"""Fashion-MNIST with a small convolutional encoder of your own.

DEC works with any functional Keras encoder that maps inputs to a flat
embedding. Needs the Fashion-MNIST IDX files (Debian: `apt-get install
dataset-fashion-mnist`, or `--data-dir DIR`).

    python examples/fashion_mnist_conv.py --max-samples 10000
"""

import argparse

import keras
import numpy as np

import keras_dec
from keras_dec.datasets import load_fashion_mnist

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data-dir", default=None)
parser.add_argument("--max-samples", type=int, default=None)
parser.add_argument("--pretrain-epochs", type=int, default=20)
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

keras.utils.set_random_seed(args.seed)
x, y = load_fashion_mnist(args.data_dir, flatten=False)  # (n, 28, 28, 1) in [0, 1]
if args.max_samples:
    x, y = x[: args.max_samples], y[: args.max_samples]

inputs = keras.Input((28, 28, 1))
h = keras.layers.Conv2D(32, 5, strides=2, padding="same", activation="relu")(inputs)
h = keras.layers.Conv2D(64, 5, strides=2, padding="same", activation="relu")(h)
h = keras.layers.Conv2D(128, 3, strides=2, padding="valid", activation="relu")(h)
embedding = keras.layers.Dense(10, name="embedding")(keras.layers.Flatten()(h))
encoder = keras.Model(inputs, embedding, name="conv_encoder")

h = keras.layers.Dense(3 * 3 * 128, activation="relu")(embedding)
h = keras.layers.Reshape((3, 3, 128))(h)
h = keras.layers.Conv2DTranspose(64, 3, strides=2, padding="valid", activation="relu")(h)
h = keras.layers.Conv2DTranspose(32, 5, strides=2, padding="same", activation="relu")(h)
outputs = keras.layers.Conv2DTranspose(1, 5, strides=2, padding="same")(h)
autoencoder = keras.Model(inputs, outputs, name="conv_autoencoder")

autoencoder.compile(optimizer="adam", loss="mse")
autoencoder.fit(x, x, batch_size=256, epochs=args.pretrain_epochs, verbose=2)

dec = keras_dec.DEC(encoder, n_clusters=10, update_interval=140)
dec.initialize_centers(x, seed=args.seed)
print("conv autoencoder + k-means:", keras_dec.evaluate_clustering(y, dec.initial_labels_))
dec.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9))
dec.fit(x, batch_size=256, epochs=args.epochs, verbose=2)
labels = dec.predict_clusters(x)
print("DEC:", keras_dec.evaluate_clustering(y, labels), "cluster sizes:", np.bincount(labels))
