"""Fashion-MNIST with DCEC's convolutional autoencoder (optionally with DEC-DA augmentation).

`RECIPES["fashion_mnist_conv"]`: the convolutional backbone (32-64-128
convolutions, a 10-d embedding), pretrained with Adam(0.001) as in DCEC,
then DEC. The trained model takes flat rows of 784 pixels, like the dense
one, so `keras-dec export` and `predict` work unchanged. Needs the
Fashion-MNIST IDX files (Debian: `apt-get install dataset-fashion-mnist`,
or `--data-dir DIR`).

    python examples/fashion_mnist_conv.py --max-samples 5000 --augment all
"""

import argparse

import numpy as np

import keras_dec
from keras_dec.datasets import load_fashion_mnist

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data-dir", default=None)
parser.add_argument("--max-samples", type=int, default=None)
parser.add_argument("--pretrain-epochs", type=int, default=None,
                    help="default: the recipe's (200)")
parser.add_argument("--max-iter", type=int, default=None, help="default: the recipe's (20,000)")
parser.add_argument("--augment", choices=keras_dec.recipe.AUGMENTATIONS, default="none",
                    help="shift and rotate the images in pretraining, clustering or all (DEC-DA)")
parser.add_argument("--output", default=None, help="folder for model.keras and metrics.json")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

x, y = load_fashion_mnist(args.data_dir, flatten=False)  # (n, 28, 28, 1) in [0, 1]
if args.max_samples:
    x, y = x[: args.max_samples], y[: args.max_samples]
recipe = keras_dec.RECIPES["fashion_mnist_conv"].replace(
    pretrain_epochs=args.pretrain_epochs, max_iter=args.max_iter, augment=args.augment
)
dec, report = keras_dec.train_dec(x, 10, recipe, y=y, seed=args.seed, output=args.output,
                                  verbose=0)
print("conv autoencoder + k-means:", report["autoencoder_kmeans"])
print("DEC:", report["dec"], "cluster sizes:",
      np.bincount(dec.predict_clusters(x.reshape(len(x), -1)), minlength=10))
