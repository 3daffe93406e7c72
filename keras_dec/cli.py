"""The `keras-dec` command line: train, export, predict, select-k, report, assign."""

from __future__ import annotations

import argparse
import os
import sys

from keras_dec.errors import FolderInUseError, ParityError
from keras_dec.recipe import (
    AUGMENTATIONS,
    BACKBONES,
    CLUSTERINGS,
    PRETRAIN_METHODS,
    PRETRAIN_OPTIMIZERS,
    PRETRAIN_SCHEDULES,
    RECIPES,
    SCALINGS,
    Recipe,
    conv_recipe,
    idec_recipe,
    recipe_for,
)

DATASETS = ("digits", "fashion_mnist", "mnist")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def _n_clusters(text: str) -> int:
    value = _positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"expected at least 2 clusters, got {value}")
    return value


def _dims(text: str) -> tuple[int, ...]:
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
    ("--dims", "dims", _dims, "encoder widths"),
    ("--pretrain-method", "pretrain_method", PRETRAIN_METHODS, "autoencoder pretraining"),
    ("--pretrain-epochs", "pretrain_epochs", int, "pretraining epochs"),
    ("--pretrain-min-steps", "pretrain_min_steps", int,
     "pretrain for at least this many steps (more epochs on small data sets)"),
    ("--pretrain-lr", "pretrain_learning_rate", float, "pretraining learning rate"),
    ("--pretrain-clipnorm", "pretrain_clipnorm", float,
     "clip the pretraining gradients' global norm to this"),
    ("--pretrain-schedule", "pretrain_schedule", PRETRAIN_SCHEDULES,
     "pretraining learning-rate schedule"),
    ("--pretrain-batch-size", "pretrain_batch_size", _positive_int, "pretraining batch size"),
    ("--batch-size", "batch_size", _positive_int, "DEC batch size"),
    ("--update-interval", "update_interval", _positive_int,
     "DEC steps between target refreshes"),
    ("--tol", "tol", float, "stop when fewer than this fraction of points change cluster"),
    ("--max-iter", "max_iter", _positive_int, "maximum DEC steps"),
    ("--lr", "learning_rate", float, "DEC SGD learning rate"),
    ("--alpha", "alpha", float, "Student's t degrees of freedom"),
    ("--clustering", "clustering", CLUSTERINGS,
     "dec, or idec: DEC plus the decoder's reconstruction loss (Guo et al. 2017), "
     "with IDEC's SGD(0.1, momentum 0.99)"),
    ("--gamma", "gamma", float, "IDEC's weight of the clustering (KL) loss"),
    ("--augment", "augment", AUGMENTATIONS,
     "image data only: randomly shifted and rotated images in pretraining, in the DEC steps "
     "(the target from the clean ones), or all: both (DEC-DA, Guo et al. 2018)"),
    ("--augment-shift", "augment_shift", float,
     "largest random shift, as a fraction of the image side"),
    ("--augment-rotation", "augment_rotation", float, "largest random rotation, in degrees"),
    ("--backbone", "backbone", BACKBONES,
     "the autoencoder: dense (the paper's), or conv (DCEC's convolutional one, image data only)"),
    ("--conv-filters", "conv_filters", _dims, "the conv backbone's three convolutions' filters"),
    ("--pretrain-optimizer", "pretrain_optimizer", PRETRAIN_OPTIMIZERS,
     "pretraining optimizer (adam ignores the momentum)"),
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


def _add_data_flags(p) -> None:
    """--dataset | --data, --data-dir and --max-samples, as `_load_data` reads them."""
    source = p.add_mutually_exclusive_group()
    source.add_argument("--dataset", choices=DATASETS, default="digits",
                        help="a built-in dataset (digits ships with scikit-learn)")
    source.add_argument("--data", metavar="FILE",
                        help="your own features: .npy, .npz (arrays 'x' and optional 'y') or "
                        ".csv; or shards (a folder, a glob such as 'shards/*.npy', or "
                        ".tfrecord), which `train` streams instead of loading")
    p.add_argument("--data-dir", metavar="DIR",
                   help="folder with the IDX .gz files for fashion_mnist/mnist "
                   "(default: $KERAS_DEC_FASHION_MNIST_DIR / $KERAS_DEC_MNIST_DIR, then "
                   "/usr/share/datasets/<name>, then a keras.datasets download)")
    p.add_argument("--max-samples", type=_positive_int, default=None,
                   help="use only the first N samples (quick checks)")


def _add_run_data_flags(p, purpose: str) -> None:
    """--dataset | --data and --data-dir for a trained run's data (`_default_to_run_data`)."""
    source = p.add_mutually_exclusive_group()
    source.add_argument("--dataset", choices=DATASETS, default=None,
                        help=f"the run's training data {purpose} (default: the one recorded "
                        "in metrics.json beside the model)")
    source.add_argument("--data", metavar="FILE",
                        help="training data file (.npy/.npz/.csv) or shards (folder or glob)")
    p.add_argument("--data-dir", metavar="DIR", help="IDX folder for fashion_mnist/mnist")


def _add_train(sub) -> None:
    p = sub.add_parser(
        "train",
        help="pretrain an autoencoder, initialise with k-means, train DEC, save the model",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Runs the whole DEC pipeline and writes DIR/model.keras, "
        "DIR/metrics.json and DIR/history.csv. Recipe flags left unset take the "
        "dataset's recipe (keras_dec.recipe.RECIPES; see the README).",
    )
    _add_data_flags(p)
    p.add_argument("--n-clusters", type=_n_clusters, default=10,
                   help="number of clusters K (>= 2)")
    p.add_argument("--output", default="runs/dec", metavar="DIR", help="output folder")
    p.add_argument("--seed", type=int, default=None, help="random seed for a repeatable run")
    p.add_argument("--baseline", action="store_true",
                   help="also report k-means on the raw features")
    p.add_argument("--quiet", action="store_true",
                   help="no progress bars (the summary still prints)")
    p.add_argument("--resume", action="store_true",
                   help="continue from DIR/checkpoints (also what happens when you rerun "
                   "the same command; a finished run is not redone)")
    p.add_argument("--fresh", action="store_true",
                   help="discard DIR/checkpoints and start over")
    p.add_argument("--checkpoint-every", type=_positive_int, default=1,
                   help="epochs between checkpoints (pretraining and DEC)")
    p.add_argument("--scale", choices=SCALINGS, default="none",
                   help="scale each feature inside the model (fitted on the training data), "
                   "so predict and the exported models take raw features; integer data "
                   "(counts) needs minmax or standard")
    p.add_argument("--report", action="store_true",
                   help="also write DIR/report.html with the run's figures (`keras-dec report`)")
    p.add_argument("--device-loop", action=argparse.BooleanOptionalAction, default=None,
                   help="keep the data on the accelerator and run many steps per compiled "
                   "call (JAX only; default: on with KERAS_BACKEND=jax)")
    p.add_argument("--stream", action="store_true",
                   help="stream a single .npy/.csv --data file block by block instead of "
                   "loading it (shard folders and globs always stream)")
    add_recipe_flags(p)
    p.set_defaults(func=_train)


def _add_export(sub) -> None:
    p = sub.add_parser(
        "export",
        help="export a trained model as a TF Serving SavedModel and TFLite files, "
        "with parity checks",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Writes BASE_PATH/NAME/VERSION/ (SavedModel) and "
        "BASE_PATH/tflite/NAME-vVERSION-MODE.tflite, compares every format with the Keras "
        "model on the training data, and publishes the version only if all checks pass.",
    )
    p.add_argument("--model", required=True, help="the trained .keras file")
    p.add_argument("--base-path", default="export/models", help="TF Serving base path")
    p.add_argument("--name", default="dec", help="model name (folder under the base path)")
    p.add_argument("--version", type=_positive_int, default=None,
                   help="version number (default: the next free one)")
    p.add_argument("--tflite", default="none,int8",
                   help="comma-separated TFLite quantizations among none,dynamic,float16,int8 "
                   "('' for none)")
    _add_run_data_flags(p, "for calibration and parity")
    p.add_argument("--max-samples", type=_positive_int, default=None,
                   help="use at most N samples for calibration and parity")
    p.add_argument("--no-parity", action="store_true", help="skip the parity checks")
    p.set_defaults(func=_export)


def _add_predict(sub) -> None:
    p = sub.add_parser(
        "predict",
        help="assign clusters with a .keras file, a SavedModel folder or a .tflite file",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--model", required=True,
                   help="a .keras file, a SavedModel version folder, or a .tflite file")
    p.add_argument("--input", required=True, help="features: .npy, .npz or .csv")
    p.add_argument("--output", default=None,
                   help="save cluster ids (.npy) here; soft assignments go to *_q.npy")
    p.add_argument("--overwrite", action="store_true",
                   help="replace existing output files (never the input file)")
    p.set_defaults(func=_predict)


def _export(args) -> int:

    from keras_dec.export.predictors import KerasPredictor
    from keras_dec.export.serving_bundle import export_for_serving
    from keras_dec.utils.validation import check_features, check_scaled

    modes = tuple(m for m in args.tflite.split(",") if m)
    if not os.path.isfile(args.model):
        raise FileNotFoundError(f"Model not found. Received: --model {args.model!r}")
    metrics = _run_metrics(args.model)
    _default_to_run_data(args, metrics)
    predictor = KerasPredictor(args.model)
    model = predictor.model
    _, x, _ = _load_data(args)
    if not predictor.scales_input:
        check_scaled(x, "x")
    x = _flatten_as_trained(x, metrics.get("input_shape"))
    x = check_features(x, "x", n_features=tuple(model.encoder.input_shape[1:]))
    if args.max_samples:
        x = x[: args.max_samples]
    metadata = {k: metrics[k] for k in ("dec", "autoencoder_kmeans", "data_source", "input_shape",
                                        "scale") if k in metrics}
    result = export_for_serving(model, args.base_path, name=args.name, tflite=modes, x=x,
                                version=args.version, metadata={"training": metadata},
                                parity=not args.no_parity)
    print(f"SavedModel (TF Serving): {result['saved_model']}  "
          f"[{result['sizes']['saved_model'] / 1e6:.2f} MB]")
    for mode, path in result["tflite"].items():
        print(f"TFLite {mode:8s}: {path}  [{result['sizes'][f'tflite_{mode}'] / 1e6:.2f} MB]")
    for fmt, r in (result["parity"] or {}).items():
        print(f"parity {fmt:15s}: agreement {r['agreement']:.4f}, max |dq| "
              f"{r['max_abs_diff']:.2e} -> {'ok' if r['passed'] else 'FAILED'}")
    return 0


def _predict(args) -> int:
    import numpy as np

    from keras_dec import datasets
    from keras_dec.export.predictors import load_predictor
    from keras_dec.utils.validation import check_features, check_scaled

    outputs = []
    if args.output:
        root = args.output[:-4] if args.output.endswith(".npy") else args.output
        outputs = [args.output, f"{root}_q.npy"]
        _check_outputs(outputs, args.input, args.overwrite)
    predictor = load_predictor(args.model)
    x, _ = datasets.load_array(args.input)
    if not predictor.scales_input:  # the model scales raw features itself
        check_scaled(x, "input")
    x = _flatten_as_trained(x, _trained_input_shape(args.model))
    x = check_features(x, "input", n_features=predictor.input_shape)
    ids, q = predictor.predict(x)
    if args.output:
        from keras_dec.utils import atomic

        for path, values in zip(outputs, (ids, q), strict=True):
            with atomic.atomic_path(path, suffix=".npy") as tmp:
                np.save(tmp, values)
        print(f"Saved {len(ids)} cluster ids to {outputs[0]} and soft assignments to "
              f"{outputs[1]}")
    else:
        for i in ids:
            print(int(i))
    return 0


def _default_to_run_data(args, metrics) -> None:
    """Without --data/--dataset, reads the data the run recorded in metrics.json."""
    if not args.data and not args.dataset:
        source = metrics.get("data_source")
        if source in DATASETS:
            args.dataset = source
        elif source:
            args.data = source
        else:
            args.dataset = "digits"


def _add_report(sub) -> None:
    p = sub.add_parser(
        "report",
        help="draw a trained run's figures and write RUN_DIR/report.html",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Writes RUN_DIR/report/*.png and a self-contained RUN_DIR/report.html: "
        "for image data the top-scoring samples of each cluster (the paper's Figure 3), a "
        "2-D map of the embedding, the training curves, the cluster sizes and, with labels, "
        "the confusion matrix in Hungarian order.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a `keras-dec train` output folder")
    _add_run_data_flags(p, "to draw")
    p.add_argument("--map", choices=("tsne", "pca"), default="tsne",
                   help="the 2-D map of the embedding: t-SNE (at most 5,000 points) or PCA")
    p.set_defaults(func=_report)


def _report(args) -> int:
    from keras_dec.report import write_report

    if not os.path.isfile(os.path.join(args.run_dir, "model.keras")):
        raise FileNotFoundError(
            f"No model.keras in the run folder. Received: RUN_DIR={args.run_dir!r}")
    metrics = _run_metrics(os.path.join(args.run_dir, "model.keras"))
    _default_to_run_data(args, metrics)
    _, x, y = _load_data(args)
    # The run may have trained on its first --max-samples rows.
    n = metrics.get("n_samples", len(x))
    x, y = x[:n], None if y is None else y[:n]
    page = write_report(args.run_dir, x, y, map_method=args.map, seed=metrics.get("seed") or 0)
    print(f"Saved {page} (figures in {os.path.join(args.run_dir, 'report')})")
    return 0


def _run_metrics(model_path) -> dict:
    """The `metrics.json` that `train` wrote beside a `.keras` model, or {}."""
    import json

    path = os.path.join(os.path.dirname(os.path.abspath(model_path)), "metrics.json")
    if not os.path.isfile(path):
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            metrics = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(f"{path!r} is unreadable ({e}); move it away or fix it.") from None
    if not isinstance(metrics, dict):
        raise ValueError(f"{path!r} is not a keras-dec metrics file.")
    return metrics


def _trained_input_shape(model_path):
    """The per-sample shape the model was trained on: from the run's metrics.json (.keras)
    or the SavedModel's metadata; None when unknown (.tflite, or an older run)."""
    if os.path.isdir(model_path):
        from keras_dec.export.saved_model import read_metadata

        try:
            return read_metadata(model_path).get("training", {}).get("input_shape")
        except (OSError, ValueError):
            return None
    if model_path.endswith(".keras"):
        return _run_metrics(model_path).get("input_shape")
    return None


def _flatten_as_trained(x, trained_shape):
    """Flattens `x` the way `train` did, when its per-sample shape is the trained one."""
    if trained_shape and x.ndim > 2 and list(x.shape[1:]) == list(trained_shape):
        return x.reshape(len(x), -1)
    return x


def _check_outputs(outputs, input_path, overwrite) -> None:
    """Refuses an output that is the input file, or an existing file without --overwrite."""
    source = os.path.realpath(input_path)
    for path in outputs:
        if os.path.realpath(path) == source:
            raise ValueError(
                f"`--output` would overwrite the input file {input_path!r}. Received: "
                f"--output {path!r}"
            )
        if os.path.isdir(path):
            raise ValueError(f"`--output` must be a file, but {path!r} is a folder.")
        if os.path.exists(path) and not overwrite:
            raise ValueError(
                f"{path!r} already exists; pass --overwrite to replace it, or choose another "
                "--output."
            )


# Rows of a shard source that commands other than `train` load (figures, parity checks).
SHARD_SAMPLE_ROWS = 20_000


def _is_shard_source(path: str) -> bool:
    return (os.path.isdir(path) or any(c in path for c in "*?[")
            or path.lower().endswith((".tfrecord", ".tfrecords")))


def _load_data(args, stream: bool = False):
    """`(name, x, y)` of --dataset/--data; with `stream`, shards as a `ShardStream`.

    Without `stream`, shards give a seeded sample of `SHARD_SAMPLE_ROWS` rows.
    """
    from keras_dec import datasets

    if args.data and (_is_shard_source(args.data) or stream):
        from keras_dec.datasets.shard_stream import ShardStream

        shards = ShardStream(args.data)
        return args.data, (shards if stream else shards.sample(SHARD_SAMPLE_ROWS, 0)[1]), None
    if args.data:
        return args.data, *datasets.load_array(args.data)
    if args.dataset == "digits":
        return "digits", *datasets.load_digits()
    loader = datasets.load_fashion_mnist if args.dataset == "fashion_mnist" else datasets.load_mnist
    return args.dataset, *loader(args.data_dir)


def _train(args) -> int:
    import numpy as np

    from keras_dec.pipeline import format_summary, train_dec

    if args.resume and args.fresh:
        raise ValueError("`--resume` and `--fresh` contradict each other; pass one.")
    streamed = bool(args.data) and (args.stream or _is_shard_source(args.data))
    if args.stream and not args.data:
        raise ValueError("`--stream` streams a --data file. Received: --stream with --dataset "
                         f"{args.dataset}")
    if streamed and args.max_samples:
        raise ValueError("`--max-samples` takes the first rows of an array; a streamed "
                         f"--data is used whole. Received: --max-samples {args.max_samples}")
    name, x, y = _load_data(args, stream=streamed)
    if args.max_samples:
        x = x[: args.max_samples]
        y = None if y is None else y[: args.max_samples]
    recipe = recipe_from_args(name, args, (len(x), int(np.prod(x.shape[1:]))))
    _, report = train_dec(x, args.n_clusters, recipe, y=y, output=args.output, seed=args.seed,
                          baseline_kmeans=args.baseline, verbose=0 if args.quiet else 1,
                          data_source=os.path.abspath(name) if args.data else name,
                          checkpoint_every=args.checkpoint_every, fresh=args.fresh,
                          device_loop=args.device_loop, scale=args.scale)
    print(format_summary(report))
    print(f"Saved {os.path.join(args.output, 'model.keras')} and "
          f"{os.path.join(args.output, 'metrics.json')}")
    if args.report:
        from keras_dec.report import write_report

        if streamed:
            x = x.sample(SHARD_SAMPLE_ROWS, 0)[1]
        page = write_report(args.output, x, y, seed=args.seed or 0)
        print(f"Saved {page}")
    return 0


def _k_values(text: str) -> list[int]:
    """`4:16` (both ends included) or `3,5,8`."""
    try:
        if ":" in text:
            low, high = (int(v) for v in text.split(":"))
            values = list(range(low, high + 1))
        else:
            values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW:HIGH or K,K,..., got {text!r}") from None
    if len(set(values)) < 2 or min(values) < 2:
        raise argparse.ArgumentTypeError(f"expected at least two K, each >= 2, got {text!r}")
    return values


def _add_select_k(sub) -> None:
    p = sub.add_parser(
        "select-k",
        help="train DEC for several K on one pretrained autoencoder and suggest K",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Prints, for each K, the paper's generalizability G = L_train / L_val "
        "and the silhouette and Calinski-Harabasz indices, with each criterion's suggested "
        "K, and writes DIR/select_k.csv, DIR/select_k.json and DIR/select_k.png.",
    )
    _add_data_flags(p)
    p.add_argument("--k", type=_k_values, required=True, metavar="LOW:HIGH",
                   help="the candidate numbers of clusters, e.g. 4:16 or 3,5,8")
    p.add_argument("--output", default="runs/select_k", metavar="DIR", help="output folder")
    p.add_argument("--validation-fraction", type=float, default=0.2,
                   help="share of the rows held out for L_val")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    add_recipe_flags(p)
    p.set_defaults(func=_select_k)


def _select_k(args) -> int:
    import numpy as np

    from keras_dec.plots import plot_selection
    from keras_dec.select_k import CRITERIA, select_n_clusters
    from keras_dec.utils import atomic

    name, x, _ = _load_data(args)
    if args.max_samples:
        x = x[: args.max_samples]
    recipe = recipe_from_args(name, args, (len(x), int(np.prod(x.shape[1:]))))
    result = select_n_clusters(x, args.k, recipe, validation_fraction=args.validation_fraction,
                               seed=args.seed, verbose=0 if args.quiet else 1,
                               data_source=name)
    columns = ["n_clusters", *CRITERIA, "loss_train", "loss_validation", "dec_iterations"]
    rows = [",".join(columns)]
    rows += [",".join("" if r[c] is None else repr(r[c]) for c in columns)
             for r in result["table"]]
    os.makedirs(args.output, exist_ok=True)
    atomic.write_text(os.path.join(args.output, "select_k.csv"), "\n".join(rows) + "\n")
    atomic.write_json(os.path.join(args.output, "select_k.json"), result)
    plot = plot_selection(result, os.path.join(args.output, "select_k.png"))

    def shown(v):
        return "-" if v is None else f"{v:.4f}"

    print(f"{'K':>4} {'G':>8} {'silhouette':>11} {'Calinski-H':>11}")
    for r in result["table"]:
        print(f"{r['n_clusters']:>4} {shown(r['generalizability']):>8} "
              f"{shown(r['silhouette']):>11} {shown(r['calinski_harabasz']):>11}")
    for criterion, k in result["suggested"].items():
        print(f"suggested by {criterion}: K = {k}")
    print(f"Saved {args.output}/select_k.csv, select_k.json and {os.path.basename(plot)}")
    return 0


def _add_assign(sub) -> None:
    p = sub.add_parser(
        "assign",
        help="assign clusters to sharded data with Apache Beam (RunInference)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Reads .npy, .csv or TFRecord shards, runs an exported SavedModel with "
        "Beam's RunInference and writes, per row, its shard, row, cluster_id and confidence "
        "(and with --embedding its embedding) as Parquet or CSV shards; OUTPUT/_SUCCESS is "
        "written last. Beam options (e.g. for DataflowRunner) go after `--`.",
    )
    p.add_argument("--model", required=True, help="a SavedModel version folder (keras-dec export)")
    p.add_argument("--input", required=True,
                   help="a folder of shards or a glob, e.g. 'shards/*.npy'")
    p.add_argument("--output", required=True, help="a new or empty output folder")
    p.add_argument("--format", choices=("parquet", "csv"), default="parquet",
                   help="output file format")
    p.add_argument("--embedding", action="store_true", help="also write each row's embedding")
    p.add_argument("--runner", default="DirectRunner",
                   help="Beam runner: DirectRunner, DataflowRunner, FlinkRunner, SparkRunner, ...")
    p.add_argument("--num-workers", type=_positive_int, default=2,
                   help="DirectRunner worker processes")
    p.add_argument("--max-batch-size", type=_positive_int, default=4096,
                   help="the largest batch RunInference forms")
    p.add_argument("pipeline_args", nargs=argparse.REMAINDER,
                   help="after --: further Beam pipeline options")
    p.set_defaults(func=_assign)


def _assign(args) -> int:
    from keras_dec.beam import assign_clusters

    extra = args.pipeline_args[1:] if args.pipeline_args[:1] == ["--"] else args.pipeline_args
    summary = assign_clusters(args.model, args.input, args.output, output_format=args.format,
                              embedding=args.embedding, runner=args.runner,
                              num_workers=args.num_workers, max_batch_size=args.max_batch_size,
                              pipeline_args=extra)
    rows = "?" if summary["rows"] is None else summary["rows"]
    print(f"Assigned {rows} rows from {summary['shards']} shards in {summary['seconds']:.1f} s; "
          f"wrote {args.output} ({args.format}, then {os.path.join(args.output, '_SUCCESS')})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `keras-dec`."""
    parser = argparse.ArgumentParser(
        prog="keras-dec", description="Deep Embedded Clustering with Keras."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _add_train(sub)
    _add_export(sub)
    _add_predict(sub)
    _add_select_k(sub)
    _add_report(sub)
    _add_assign(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `keras-dec` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, OSError, ImportError, FloatingPointError, ParityError,
            FileExistsError, FolderInUseError) as e:
        message = " ".join(str(e).split())
        print(f"keras-dec: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("keras-dec: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
