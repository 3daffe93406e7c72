"""`keras-dec predict`: cluster ids from a .keras file, a SavedModel or a .tflite file."""

from __future__ import annotations

import argparse
import os

from keras_dec.cli.inputs import check_outputs, model_input


def add_parser(sub) -> None:
    p = sub.add_parser(
        "predict",
        help="assign clusters with a .keras file, a SavedModel folder or a .tflite file",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Prints one cluster id per row, or with --output saves the soft "
        "assignments to *_q.npy and then the ids: the ids file is written last, so where it "
        "exists its _q file is complete and from the same run.",
    )
    p.add_argument("--model", required=True,
                   help="a .keras file, a SavedModel version folder, or a .tflite file")
    p.add_argument("--input", required=True, help="features: .npy, .npz or .csv")
    p.add_argument("--output", default=None,
                   help="save cluster ids (.npy) here; soft assignments go to *_q.npy")
    p.add_argument("--overwrite", action="store_true",
                   help="replace existing output files (never the input file)")
    p.set_defaults(func=run)


def output_paths(output: str) -> tuple[str, str]:
    """`(ids_path, q_path)` for --output: `ids.npy` and `ids_q.npy`."""
    root = output[:-4] if output.endswith(".npy") else output
    return output, f"{root}_q.npy"


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from keras_dec import datasets
    from keras_dec.export.predictors import load_predictor, trained_input_shape
    from keras_dec.utils import atomic

    if args.output:
        ids_path, q_path = output_paths(args.output)
        check_outputs([q_path, ids_path], args.input, args.overwrite)
    predictor = load_predictor(args.model)
    x, _ = datasets.load_array(args.input)
    x = model_input(x, "input", predictor.input_shape, trained_input_shape(args.model),
                    predictor.scales_input)
    ids, q = predictor.predict(x)
    if not args.output:
        for i in ids:
            print(int(i))
        return 0
    # The ids go last: an ids file always has its complete Q beside it. A run
    # killed before it leaves no ids file, and the next run replaces its Q.
    for folder in {os.path.dirname(os.path.abspath(p)) for p in (ids_path, q_path)}:
        atomic.remove_leftovers(folder, targets=[os.path.basename(ids_path),
                                                 os.path.basename(q_path)])
    if os.path.exists(ids_path):
        os.remove(ids_path)  # --overwrite: the old ids must not outlive a kill beside a new Q
    for path, values in ((q_path, q), (ids_path, ids)):
        with atomic.atomic_path(path, suffix=".npy") as tmp:
            np.save(tmp, values)
    print(f"Saved {len(ids)} cluster ids to {ids_path} and soft assignments to {q_path}")
    return 0
