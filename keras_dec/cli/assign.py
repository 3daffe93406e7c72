"""`keras-dec assign`: cluster ids for sharded data on Apache Beam (RunInference)."""

from __future__ import annotations

import argparse
import os

from keras_dec.cli import flags


def add_parser(sub) -> None:
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
    p.add_argument("--num-workers", type=flags.positive_int, default=2,
                   help="DirectRunner worker processes")
    p.add_argument("--max-batch-size", type=flags.positive_int, default=4096,
                   help="the largest batch RunInference forms")
    p.add_argument("pipeline_args", nargs=argparse.REMAINDER,
                   help="after --: further Beam pipeline options")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
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
