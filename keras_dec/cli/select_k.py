"""`keras-dec select-k`: DEC for several K on one pretrained autoencoder, and a suggested K."""

from __future__ import annotations

import argparse
import os

from keras_dec.cli import flags
from keras_dec.cli.inputs import load_data


def k_values(text: str) -> list[int]:
    """argparse type: `4:16` (both ends included) or `3,5,8`."""
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


def add_parser(sub) -> None:
    p = sub.add_parser(
        "select-k",
        help="train DEC for several K on one pretrained autoencoder and suggest K",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Prints, for each K, the paper's generalizability G = L_train / L_val "
        "and the silhouette and Calinski-Harabasz indices, with each criterion's suggested "
        "K, and writes DIR/select_k.csv, DIR/select_k.json and DIR/select_k.png.",
    )
    flags.add_data_flags(p)
    p.add_argument("--k", type=k_values, required=True, metavar="LOW:HIGH",
                   help="the candidate numbers of clusters, e.g. 4:16 or 3,5,8")
    p.add_argument("--output", default="runs/select_k", metavar="DIR", help="output folder")
    p.add_argument("--validation-fraction", type=float, default=0.2,
                   help="share of the rows held out for L_val")
    flags.add_seed_flag(p, 0)
    flags.add_quiet_flag(p)
    flags.add_backend_flag(p)
    flags.add_recipe_flags(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from keras_dec.plots import plot_selection
    from keras_dec.select_k import CRITERIA, select_n_clusters
    from keras_dec.utils import atomic
    from keras_dec.utils.folder_lock import exclusive_folder

    name, x, _ = load_data(args)
    if args.max_samples:
        x = x[: args.max_samples]
    recipe = flags.recipe_from_args(name, args, (len(x), int(np.prod(x.shape[1:]))))
    # One writer per output folder, as for `train`.
    with exclusive_folder(args.output, "keras-dec select-k"):
        result = select_n_clusters(x, args.k, recipe, validation_fraction=args.validation_fraction,
                                   seed=args.seed, verbose=0 if args.quiet else 1,
                                   data_source=name)
        columns = ["n_clusters", *CRITERIA, "loss_train", "loss_validation", "dec_iterations"]
        rows = [",".join(columns)]
        rows += [",".join("" if r[c] is None else repr(r[c]) for c in columns)
                 for r in result["table"]]
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
