"""Where every command's data comes from, and the one preparation of a model's input.

`load_data` reads --dataset/--data once; `run_data` finds a trained run's
data again and checks that it is the data the run trained on;
`model_input` applies the same three checks for every command that feeds a
trained model (scaling rule, flattening as trained, shape and values).
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from keras_dec.cli.flags import DATASETS

# Rows of a shard source that commands other than `train` load (figures, parity checks).
SHARD_SAMPLE_ROWS = 20_000


def load_data(args: argparse.Namespace, stream: bool = False):
    """`(name, x, y)` of --dataset/--data; with `stream`, shards as a `ShardStream`.

    Without `stream`, shards give a seeded sample of `SHARD_SAMPLE_ROWS` rows.
    """
    from keras_dec import datasets
    from keras_dec.datasets.shards import is_shard_source

    if args.data and (is_shard_source(args.data) or stream):
        from keras_dec.datasets.shard_stream import ShardStream

        shards = ShardStream(args.data)
        return args.data, (shards if stream else shards.sample(SHARD_SAMPLE_ROWS, 0)[1]), None
    if args.data:
        return args.data, *datasets.load_array(args.data)
    if args.dataset == "digits":
        return "digits", *datasets.load_digits()
    loader = datasets.load_fashion_mnist if args.dataset == "fashion_mnist" else datasets.load_mnist
    return args.dataset, *loader(args.data_dir)


def run_data(args: argparse.Namespace, metrics: dict):
    """`(name, x, y)`: --data/--dataset, or else the data the run recorded in metrics.json.

    The rows are cut to the run's `n_samples` (it may have trained on the
    first --max-samples rows).
    """
    if not (args.data or args.dataset):
        source = metrics.get("data_source")
        if source in DATASETS:
            args.dataset = source
        elif source:
            args.data = source
        else:
            args.dataset = "digits"
    name, x, y = load_data(args)
    n = metrics.get("n_samples", len(x))
    return name, x[:n], None if y is None else y[:n]


def verify_run_data(rows: np.ndarray, metrics: dict, name: str) -> None:
    """Refuses rows (as `model_input` gives them) whose SHA-256 differs from the run's.

    The run's data was then changed or replaced since training. Streamed
    runs (shards) are not hashed here: that would read every shard.
    """
    from keras_dec.utils.fingerprint import array_sha256

    if not metrics.get("data_sha256") or metrics.get("shards"):
        return
    if array_sha256(rows) != metrics["data_sha256"]:
        raise ValueError(
            f"The data {name!r} is not the data this run trained on: its SHA-256 differs "
            "from the one metrics.json recorded (the file was changed or replaced since "
            "training). Pass the run's training data with --data or --dataset."
        )


def model_input(x, name: str, n_features: tuple, trained_shape=None,
                scales_input: bool = False) -> np.ndarray:
    """`x` as a trained model takes it: checked once, float32 rows.

    Unscaled integers are refused unless the model scales its input itself;
    samples of the trained per-sample shape are flattened as `train` did;
    the shape must then match the model's input, and every value be finite.
    """
    from keras_dec.utils.validation import check_features, check_scaled

    if not scales_input:
        check_scaled(x, name)
    x = np.asarray(x)
    if trained_shape and x.ndim > 2 and list(x.shape[1:]) == list(trained_shape):
        x = x.reshape(len(x), -1)
    return check_features(x, name, n_features=n_features)


def check_outputs(outputs: list[str], input_path: str, overwrite: bool) -> None:
    """Refuses an output that is the input file, a folder, or (without --overwrite) a
    complete earlier output: the last file of `outputs` marks a complete set."""
    source = os.path.realpath(input_path)
    for path in outputs:
        if os.path.realpath(path) == source:
            raise ValueError(
                f"`--output` would overwrite the input file {input_path!r}. Received: "
                f"--output {path!r}"
            )
        if os.path.isdir(path):
            raise ValueError(f"`--output` must be a file, but {path!r} is a folder.")
    done = outputs[-1]
    if os.path.exists(done) and not overwrite:
        raise ValueError(
            f"{done!r} already exists; pass --overwrite to replace it, or choose another "
            "--output."
        )
