"""The flags several commands share, defined once: data sources, recipes, seeds, output."""

from __future__ import annotations

import argparse

from keras_dec.recipe import (
    AUGMENTATIONS,
    BACKBONES,
    CLUSTERINGS,
    INITS,
    MANIFOLDS,
    PRETRAIN_METHODS,
    PRETRAIN_OPTIMIZERS,
    PRETRAIN_SCHEDULES,
    RECIPES,
    Recipe,
    conv_recipe,
    idec_recipe,
    recipe_for,
)

DATASETS = ("digits", "fashion_mnist", "mnist")


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def ensemble_size(text: str) -> int:
    """argparse type: an ensemble's number of runs, 1 or >= 3 (two cannot outvote each other)."""
    value = positive_int(text)
    if value == 2:
        raise argparse.ArgumentTypeError("expected 1 (a single run) or 3 runs or more: two "
                                         "runs agree with each other equally, got 2")
    return value


def n_clusters(text: str) -> int:
    """argparse type: a number of clusters, >= 2."""
    value = positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"expected at least 2 clusters, got {value}")
    return value


def widths(text: str) -> tuple[int, ...]:
    """argparse type: comma-separated positive integers (layer widths)."""
    try:
        dims = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers like 500,500,2000,10, got {text!r}"
        ) from None
    if not dims or min(dims) < 1:
        raise argparse.ArgumentTypeError(f"expected positive widths, got {text!r}")
    return dims


# (flag, Recipe field, type or choices, help) of every recipe override.
RECIPE_FLAGS = (
    ("--dims", "dims", widths, "encoder widths"),
    ("--pretrain-method", "pretrain_method", PRETRAIN_METHODS, "autoencoder pretraining"),
    ("--pretrain-epochs", "pretrain_epochs", int, "pretraining epochs"),
    ("--pretrain-min-steps", "pretrain_min_steps", int,
     "pretrain for at least this many steps (more epochs on small data sets)"),
    ("--pretrain-lr", "pretrain_learning_rate", float, "pretraining learning rate"),
    ("--pretrain-clipnorm", "pretrain_clipnorm", float,
     "clip the pretraining gradients' global norm to this"),
    ("--pretrain-schedule", "pretrain_schedule", PRETRAIN_SCHEDULES,
     "pretraining learning-rate schedule"),
    ("--pretrain-batch-size", "pretrain_batch_size", positive_int, "pretraining batch size"),
    ("--batch-size", "batch_size", positive_int, "DEC batch size"),
    ("--update-interval", "update_interval", positive_int,
     "DEC steps between target refreshes"),
    ("--tol", "tol", float, "stop when fewer than this fraction of points change cluster"),
    ("--max-iter", "max_iter", positive_int, "maximum DEC steps"),
    ("--lr", "learning_rate", float, "DEC SGD learning rate"),
    ("--alpha", "alpha", float, "Student's t degrees of freedom"),
    ("--clustering", "clustering", CLUSTERINGS,
     "dec, or idec: DEC plus the decoder's reconstruction loss (Guo et al. 2017), "
     "with IDEC's SGD(0.1, momentum 0.99), or gmm: a fixed full-covariance Gaussian "
     "mixture's posterior on the embedding (on the manifold with --manifold umap), no DEC "
     "steps"),
    ("--gamma", "gamma", float, "IDEC's weight of the clustering (KL) loss"),
    ("--augment", "augment", AUGMENTATIONS,
     "image data only: randomly shifted and rotated images in pretraining, in the DEC steps "
     "(the target from the clean ones), or all: both (DEC-DA, Guo et al. 2018)"),
    ("--augment-shift", "augment_shift", float,
     "largest random shift, as a fraction of the image side"),
    ("--augment-rotation", "augment_rotation", float, "largest random rotation, in degrees"),
    ("--backbone", "backbone", BACKBONES,
     "the autoencoder: dense (the paper's), or conv (DCEC's convolutional one, image data only)"),
    ("--conv-filters", "conv_filters", widths, "the conv backbone's three convolutions' filters"),
    ("--pretrain-optimizer", "pretrain_optimizer", PRETRAIN_OPTIMIZERS,
     "pretraining optimizer (adam ignores the momentum)"),
    ("--manifold", "manifold", MANIFOLDS,
     "umap: train a parametric-UMAP head on the embedding's fuzzy graph and cluster its "
     "output (N2D's idea, exported as one model; on by default for >= 100 features with --data)"),
    ("--manifold-neighbors", "manifold_neighbors", positive_int, "the UMAP graph's neighbours"),
    ("--manifold-min-dist", "manifold_min_dist", float, "UMAP's min_dist"),
    ("--manifold-widths", "manifold_widths", widths, "the manifold head's hidden widths"),
    ("--manifold-components", "manifold_components", int,
     "the manifold head's output dimensions (0: one per cluster)"),
    ("--manifold-steps", "manifold_steps", positive_int, "the manifold head's training steps"),
    ("--manifold-batch-size", "manifold_batch_size", positive_int,
     "graph edges per manifold training step"),
    ("--manifold-negatives", "manifold_negatives", positive_int,
     "negative samples per edge"),
    ("--manifold-lr", "manifold_learning_rate", float, "the manifold head's Adam learning rate"),
    ("--manifold-gradient-scale", "manifold_gradient_scale", float,
     "the factor on the encoder's gradient in DEC's steps under the head (default: 1 / the "
     "head's gain squared, at most 1)"),
    ("--init", "init", INITS,
     "how the centres start: k-means, a full-covariance Gaussian mixture's means, or auto "
     "(the mixture on a manifold, k-means otherwise)"),
)


def add_recipe_flags(parser: argparse.ArgumentParser) -> None:
    """Adds `--recipe` and one flag per `RECIPE_FLAGS` row; unset flags stay None."""
    group = parser.add_argument_group("recipe (default: the dataset's recipe)")
    group.add_argument("--recipe", choices=sorted(RECIPES), default=None,
                       help="a named recipe from keras_dec.RECIPES instead of the dataset's "
                       "(e.g. fashion_mnist_quick: 50 pretraining epochs, 8,000 DEC steps)")
    default = Recipe()

    def show(value):
        return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)

    for flag, field, kind, text in RECIPE_FLAGS:
        shown = show(getattr(default, field))
        for name, recipe in RECIPES.items():
            if getattr(recipe, field) != getattr(default, field):
                shown += f"; {name} {show(getattr(recipe, field))}"
        extra = {"choices": kind} if isinstance(kind, tuple) else {"type": kind}
        # "%(default).0s" keeps argparse from appending "(default: None)".
        group.add_argument(flag, dest=field, default=None, **extra,
                           help=f"{text} (recipe: {shown})%(default).0s")


def recipe_from_args(dataset: str, args: argparse.Namespace, shape=None) -> Recipe:
    """The named (or the dataset's) recipe with the flags that were set.

    For data that is not a named dataset, the recipe is `recipe_for` the
    data's `shape` (`(n_samples, n_features)`), or `Recipe()` without one.
    """
    if getattr(args, "recipe", None):
        base = RECIPES[args.recipe]
    elif dataset in RECIPES:
        base = RECIPES[dataset]
    else:
        base = recipe_for(*shape) if shape is not None else Recipe()
    if getattr(args, "clustering", None) == "idec" and base.clustering != "idec":
        base = idec_recipe(base)  # IDEC's optimizer too; --lr still overrides it
    if getattr(args, "backbone", None) == "conv" and base.backbone != "conv":
        base = conv_recipe(base)  # DCEC's pretraining too; the flags still override it
    return base.replace(
        **{field: getattr(args, field) for _, field, _, _ in RECIPE_FLAGS}
    )


def add_data_flags(parser: argparse.ArgumentParser) -> None:
    """--dataset | --data, --data-dir and --max-samples: the data to train on."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--dataset", choices=DATASETS, default="digits",
                        help="a built-in dataset (digits ships with scikit-learn)")
    source.add_argument("--data", metavar="FILE",
                        help="your own features: .npy, .npz (arrays 'x' and optional 'y') or "
                        ".csv; or shards (a folder, a glob such as 'shards/*.npy', or "
                        ".tfrecord), which `train` streams instead of loading")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="folder with the IDX .gz files for fashion_mnist/mnist "
                        "(default: $KERAS_DEC_FASHION_MNIST_DIR / $KERAS_DEC_MNIST_DIR, then "
                        "/usr/share/datasets/<name>, then a keras.datasets download)")
    parser.add_argument("--max-samples", type=positive_int, default=None,
                        help="use only the first N samples (quick checks)")


def add_run_data_flags(parser: argparse.ArgumentParser, purpose: str) -> None:
    """--dataset | --data and --data-dir for a trained run's data (default: the recorded one)."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--dataset", choices=DATASETS, default=None,
                        help=f"the run's training data {purpose} (default: the one recorded "
                        "in metrics.json beside the model)")
    source.add_argument("--data", metavar="FILE",
                        help="training data file (.npy/.npz/.csv) or shards (folder or glob)")
    parser.add_argument("--data-dir", metavar="DIR", help="IDX folder for fashion_mnist/mnist")


def add_seed_flag(parser: argparse.ArgumentParser, default: int | None) -> None:
    """--seed."""
    parser.add_argument("--seed", type=int, default=default,
                        help="random seed for a repeatable run")


def add_quiet_flag(parser: argparse.ArgumentParser) -> None:
    """--quiet."""
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bars (the summary still prints)")


def add_backend_flag(parser: argparse.ArgumentParser) -> None:
    """--backend {auto,tensorflow,jax,torch} (`keras_dec.cli.backend_choice`)."""
    from keras_dec.cli.backend_choice import BACKENDS

    parser.add_argument("--backend", choices=BACKENDS, default="auto",
                        help="the Keras backend to train on; auto: JAX for the dense "
                        "autoencoder, TensorFlow for the conv backbone (the fastest measured), "
                        "whichever is installed; KERAS_BACKEND, if set, wins. Export and "
                        "predict run on TensorFlow whatever trained the model")


def uses_conv_backbone(args: argparse.Namespace) -> bool:
    """Whether the recipe the flags select has the convolutional backbone."""
    if getattr(args, "backbone", None):
        return args.backbone == "conv"
    return bool(getattr(args, "recipe", None)) and RECIPES[args.recipe].backbone == "conv"
