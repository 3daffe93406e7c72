"""Cluster your own features (.npy, .npz or .csv) and save the cluster ids.

    python examples/cluster_own_features.py features.npy --n-clusters 8 --out labels.npy

Features are standardised (zero mean, unit variance per column) before
training, which suits embeddings and tabular data; images already in [0, 1]
can skip it with --no-standardize.
"""

import argparse

import numpy as np

import keras_dec
from keras_dec.datasets import load_array

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("input", help=".npy, .npz or .csv file, one row per sample")
parser.add_argument("--n-clusters", type=int, required=True)
parser.add_argument("--out", default="labels.npy", help="where to save the cluster ids")
parser.add_argument("--no-standardize", action="store_true")
parser.add_argument("--pretrain-epochs", type=int, default=100)
parser.add_argument("--max-iter", type=int, default=5000)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

x, y = load_array(args.input)
if not args.no_standardize:
    x = (x - x.mean(0)) / np.maximum(x.std(0), 1e-8)

recipe = keras_dec.Recipe(
    pretrain_epochs=args.pretrain_epochs,
    pretrain_learning_rate=0.1,  # standardised features: a gentler rate than for pixels
    max_iter=args.max_iter,
    update_interval=max(1, min(140, len(x) // 256 + 1)),
)
dec, report = keras_dec.train_dec(x, args.n_clusters, recipe, y=y, seed=args.seed, verbose=0)
labels = dec.predict_clusters(x)
np.save(args.out, labels)
print(f"{len(x)} samples -> {args.n_clusters} clusters, sizes {np.bincount(labels).tolist()}; "
      f"saved {args.out}")
if "dec" in report:
    print("against the labels in the file:", report["dec"])
