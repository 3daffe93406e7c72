"""`keras-dec export`: a trained model as a TF Serving SavedModel and TFLite files."""

from __future__ import annotations

import argparse
import os

from keras_dec.cli import flags
from keras_dec.cli.inputs import model_input, run_data, verify_run_data


def add_parser(sub) -> None:
    p = sub.add_parser(
        "export",
        help="export a trained model as a TF Serving SavedModel and TFLite files, "
        "with parity checks",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Writes BASE_PATH/NAME/VERSION/ (SavedModel) and "
        "BASE_PATH/tflite/NAME-vVERSION-MODE.tflite (with NAME-vVERSION.json, their manifest), "
        "compares every format with the Keras model on the training data, and publishes the "
        "version and its TFLite files together, only if all checks pass.",
    )
    p.add_argument("--model", required=True, help="the trained .keras file")
    p.add_argument("--base-path", default="export/models", help="TF Serving base path")
    p.add_argument("--name", default="dec", help="model name (folder under the base path)")
    p.add_argument("--version", type=flags.positive_int, default=None,
                   help="version number (default: the next free one)")
    p.add_argument("--tflite", default="none,int8",
                   help="comma-separated TFLite quantizations among none,dynamic,float16,int8 "
                   "('' for none)")
    flags.add_run_data_flags(p, "for calibration and parity")
    p.add_argument("--max-samples", type=flags.positive_int, default=None,
                   help="use at most N samples for calibration and parity")
    p.add_argument("--no-parity", action="store_true", help="skip the parity checks")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from keras_dec.export.predictors import KerasPredictor
    from keras_dec.export.serving_bundle import export_for_serving
    from keras_dec.pipeline.run_folder import metrics_beside

    modes = tuple(m for m in args.tflite.split(",") if m)
    if not os.path.isfile(args.model):
        raise FileNotFoundError(f"Model not found. Received: --model {args.model!r}")
    metrics = metrics_beside(args.model)
    # The run's own recorded data is checked against its hash; data passed
    # with --data is taken as a calibration and parity sample.
    recorded = not (args.data or args.dataset)
    predictor = KerasPredictor(args.model)
    name, x, _ = run_data(args, metrics)
    x = model_input(x, "x", predictor.input_shape, metrics.get("input_shape"),
                    predictor.scales_input)
    if recorded:
        verify_run_data(x, metrics, name)
    if args.max_samples:
        x = x[: args.max_samples]
    metadata = {k: metrics[k] for k in ("dec", "autoencoder_kmeans", "data_source", "input_shape",
                                        "scale", "data_sha256") if k in metrics}
    result = export_for_serving(predictor.model, args.base_path, name=args.name, tflite=modes,
                                x=x, version=args.version, metadata={"training": metadata},
                                parity=not args.no_parity)
    print(f"SavedModel (TF Serving): {result['saved_model']}  "
          f"[{result['sizes']['saved_model'] / 1e6:.2f} MB]")
    for mode, path in result["tflite"].items():
        print(f"TFLite {mode:8s}: {path}  [{result['sizes'][f'tflite_{mode}'] / 1e6:.2f} MB]")
    for fmt, r in (result["parity"] or {}).items():
        print(f"parity {fmt:15s}: agreement {r['agreement']:.4f}, max |dq| "
              f"{r['max_abs_diff']:.2e} -> {'ok' if r['passed'] else 'FAILED'}")
    return 0
