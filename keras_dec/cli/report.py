"""`keras-dec report`: a trained run's figures in one HTML page."""

from __future__ import annotations

import argparse
import os

from keras_dec.cli import flags
from keras_dec.cli.inputs import model_input, run_data, verify_run_data


def add_parser(sub) -> None:
    p = sub.add_parser(
        "report",
        help="draw a trained run's figures and write RUN_DIR/report.html",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Writes RUN_DIR/report/*.png and a self-contained RUN_DIR/report.html: "
        "for image data the top-scoring samples of each cluster (the paper's Figure 3), a "
        "2-D map of the embedding, the training curves, the cluster sizes and, with labels, "
        "the confusion matrix in Hungarian order. The data must be the run's own (its "
        "SHA-256 is checked against metrics.json).",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a `keras-dec train` output folder")
    flags.add_run_data_flags(p, "to draw")
    p.add_argument("--map", choices=("tsne", "pca"), default="tsne",
                   help="the 2-D map of the embedding: t-SNE (at most 5,000 points) or PCA")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from keras_dec.backbones.scaling import has_input_scaling
    from keras_dec.pipeline.run_folder import MODEL_FILE, read_metrics
    from keras_dec.report import write_report
    from keras_dec.saving import load_model

    model_path = os.path.join(args.run_dir, MODEL_FILE)
    if not os.path.isfile(model_path):
        raise FileNotFoundError(
            f"No model.keras in the run folder. Received: RUN_DIR={args.run_dir!r}")
    metrics = read_metrics(args.run_dir)
    model = load_model(model_path)
    name, x, y = run_data(args, metrics)
    x = model_input(x, "x", tuple(model.encoder.input_shape[1:]), metrics.get("input_shape"),
                    has_input_scaling(model))
    verify_run_data(x, metrics, name)
    page = write_report(args.run_dir, x, y, map_method=args.map, seed=metrics.get("seed") or 0,
                        check_input=False)
    print(f"Saved {page} (figures in {os.path.join(args.run_dir, 'report')})")
    return 0
