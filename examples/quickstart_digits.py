"""Quickstart: DEC on scikit-learn's 8x8 digits, in plain Keras (`model.fit`).

    python examples/quickstart_digits.py                 # the full recipe, ~4 min on 2 cores
    python examples/quickstart_digits.py --pretrain-epochs 2 --epochs 2   # a smoke run
"""

import argparse

import keras

import keras_dec
from keras_dec.datasets import load_digits

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--pretrain-epochs", type=int, default=300)
parser.add_argument("--epochs", type=int, default=300, help="DEC epochs at most (stops at tol)")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

keras.utils.set_random_seed(args.seed)
x, y = load_digits()  # (1797, 64) float32 in [0, 1]

# 1. Pretrain the d-500-500-2000-10 autoencoder (a functional Keras model).
autoencoder, encoder = keras_dec.build_autoencoder(x.shape[1], seed=args.seed)
autoencoder.compile(optimizer=keras.optimizers.SGD(1.0, momentum=0.9), loss="mse")
autoencoder.fit(x, x, batch_size=256, epochs=args.pretrain_epochs, verbose=0)

# 2. k-means on the embeddings gives the initial centres.
dec = keras_dec.DEC(encoder, n_clusters=10, update_interval=30, tol=0.001)
dec.initialize_centers(x, seed=args.seed)
print("autoencoder + k-means:", keras_dec.evaluate_clustering(y, dec.initial_labels_))

# 3. DEC: minimise KL(P || Q); fit stops by itself when labels stop changing.
dec.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9))
history = dec.fit(x, batch_size=256, epochs=args.epochs, verbose=0)
print(f"DEC: {dec.n_iter_} steps, converged={dec.converged_}, "
      f"last label change {history.history['label_change'][-1]:.4f}")
print("DEC:", keras_dec.evaluate_clustering(y, dec.predict_clusters(x)))
