"""`keras-dec train`: the whole pipeline on a dataset or your own data."""

from __future__ import annotations

import argparse
import os

from keras_dec.cli import flags
from keras_dec.cli.inputs import SHARD_SAMPLE_ROWS, load_data
from keras_dec.recipe import SCALINGS


def add_parser(sub) -> None:
    p = sub.add_parser(
        "train",
        help="pretrain an autoencoder, initialise with k-means, train DEC, save the model",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Runs the whole DEC pipeline and writes DIR/model.keras, "
        "DIR/metrics.json and DIR/history.csv. Recipe flags left unset take the "
        "dataset's recipe (keras_dec.recipe.RECIPES; see the docs).",
    )
    flags.add_data_flags(p)
    p.add_argument("--n-clusters", type=flags.n_clusters, default=10,
                   help="number of clusters K (>= 2)")
    p.add_argument("--output", default="runs/dec", metavar="DIR", help="output folder")
    flags.add_seed_flag(p, None)
    p.add_argument("--baseline", action="store_true",
                   help="also report k-means on the raw features")
    flags.add_quiet_flag(p)
    p.add_argument("--resume", action="store_true",
                   help="continue from DIR/checkpoints (also what happens when you rerun "
                   "the same command; a finished run is not redone)")
    p.add_argument("--fresh", action="store_true",
                   help="discard DIR/checkpoints and start over")
    p.add_argument("--checkpoint-every", type=flags.positive_int, default=1,
                   help="epochs between checkpoints (pretraining and DEC)")
    p.add_argument("--scale", choices=SCALINGS, default="none",
                   help="scale each feature inside the model (fitted on the training data), "
                   "so predict and the exported models take raw features; integer data "
                   "(counts) needs minmax or standard")
    p.add_argument("--ensemble", type=flags.ensemble_size, default=1, metavar="N",
                   help="train N runs (seeds SEED, SEED+1, ..., each its own pretraining, in "
                   "DIR/runs/) and keep the one whose clusters agree most with the others' "
                   "(mean ARI, no labels used); 1: a single run")
    p.add_argument("--report", action="store_true",
                   help="also write DIR/report.html with the run's figures (`keras-dec report`)")
    p.add_argument("--device-loop", action=argparse.BooleanOptionalAction, default=None,
                   help="keep the data on the accelerator and run many steps per compiled "
                   "call (JAX only; default: on with KERAS_BACKEND=jax)")
    p.add_argument("--stream", action="store_true",
                   help="stream a single .npy/.csv --data file block by block instead of "
                   "loading it (shard folders and globs always stream)")
    flags.add_backend_flag(p)
    flags.add_recipe_flags(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from keras_dec.datasets.shards import is_shard_source
    from keras_dec.pipeline import format_summary, train_dec

    if args.resume and args.fresh:
        raise ValueError("`--resume` and `--fresh` contradict each other; pass one.")
    streamed = bool(args.data) and (args.stream or is_shard_source(args.data))
    if args.stream and not args.data:
        raise ValueError("`--stream` streams a --data file. Received: --stream with --dataset "
                         f"{args.dataset}")
    if streamed and args.max_samples:
        raise ValueError("`--max-samples` takes the first rows of an array; a streamed "
                         f"--data is used whole. Received: --max-samples {args.max_samples}")
    name, x, y = load_data(args, stream=streamed)
    if args.max_samples:
        x = x[: args.max_samples]
        y = None if y is None else y[: args.max_samples]
    recipe = flags.recipe_from_args(name, args, (len(x), int(np.prod(x.shape[1:]))))
    _, report = train_dec(x, args.n_clusters, recipe, y=y, output=args.output, seed=args.seed,
                          baseline_kmeans=args.baseline, verbose=0 if args.quiet else 1,
                          data_source=os.path.abspath(name) if args.data else name,
                          checkpoint_every=args.checkpoint_every, fresh=args.fresh,
                          device_loop=args.device_loop, scale=args.scale,
                          ensemble=args.ensemble)
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
