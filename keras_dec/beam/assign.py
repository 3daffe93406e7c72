"""Batch cluster assignment of sharded data with Apache Beam's `RunInference`."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import time

import apache_beam as beam
import numpy as np
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics.metric import Metrics, MetricsFilter
from apache_beam.ml.inference.base import KeyedModelHandler, RunInference
from apache_beam.options.pipeline_options import PipelineOptions

from keras_dec.beam.saved_model_handler import SavedModelHandler
from keras_dec.datasets.shards import check_shard_names, list_shards, read_shard
from keras_dec.utils.validation import check_choice, check_int, check_scaled

FORMATS = ("parquet", "csv")
SUCCESS_FILE = "_SUCCESS"
_NAMESPACE = "keras_dec"


def _open(path, mode="rb"):
    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


class ReadShardRows(beam.DoFn):
    """A shard path -> `((shard, row), features)` for each of its rows."""

    def __init__(self, n_features: int, scaled_by_model: bool):
        self.n_features = n_features
        self.scaled_by_model = scaled_by_model
        self.shards = Metrics.counter(_NAMESPACE, "shards_read")

    def process(self, path):
        x = read_shard(path, self.n_features, opener=_open)
        if not self.scaled_by_model:
            check_scaled(x, f"shard {path!r}")
        self.shards.inc()
        for i, row in enumerate(x):
            yield (path, i), row


class FormatRow(beam.DoFn):
    """`((shard, row), PredictionResult)` -> one output record (a dict)."""

    def __init__(self):
        self.rows = Metrics.counter(_NAMESPACE, "rows_assigned")

    def process(self, element):
        (shard, row), result = element
        record = {"shard": shard, "row": row, **result.inference}
        if "embedding" in record:
            record["embedding"] = [float(v) for v in record["embedding"]]
        self.rows.inc()
        yield record


def _csv_line(record: dict) -> str:
    out = io.StringIO()
    fields = [record["shard"], record["row"], record["cluster_id"], repr(record["confidence"])]
    fields += [repr(v) for v in record.get("embedding", ())]
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue()


def _parquet_schema(embedding: bool):
    import pyarrow as pa

    fields = [("shard", pa.string()), ("row", pa.int64()), ("cluster_id", pa.int32()),
              ("confidence", pa.float32())]
    if embedding:
        fields.append(("embedding", pa.list_(pa.float32())))
    return pa.schema(fields)


def build_assign_pipeline(
    pipeline: beam.Pipeline,
    model: str,
    shards: list[str],
    output: str,
    n_features: int,
    output_format: str = "parquet",
    embedding: bool = False,
    embedding_dim: int | None = None,
    scaled_by_model: bool = False,
    max_batch_size: int = 4096,
):
    """Adds read -> `RunInference` -> write to `pipeline`; returns the write's result.

    Writes `<output>/part-SSSSS-of-NNNNN.parquet` (or `.csv`) with one record
    per input row: `shard`, `row` (its index in the shard), `cluster_id`,
    `confidence` (the largest soft assignment) and, with `embedding=True`,
    `embedding`. `assign_clusters` wraps this with the checks, the clean-up
    on failure and the `_SUCCESS` marker; use this to add assignment to a
    pipeline of your own.

    Examples:
        >>> with beam.Pipeline() as p:  # doctest: +SKIP
        ...     build_assign_pipeline(p, "export/models/dec/1", ["shards/part-0.npy"], "out",
        ...                           n_features=784)
    """
    handler = KeyedModelHandler(
        SavedModelHandler(model, embedding=embedding, max_batch_size=max_batch_size))
    records = (
        pipeline
        | "Shards" >> beam.Create(shards)
        | "SpreadShards" >> beam.Reshuffle()
        | "ReadRows" >> beam.ParDo(ReadShardRows(n_features, scaled_by_model))
        | "Assign" >> RunInference(handler)
        | "Format" >> beam.ParDo(FormatRow())
    )
    prefix = FileSystems.join(output, "part")
    if output_format == "parquet":
        return records | "WriteParquet" >> beam.io.WriteToParquet(
            prefix, _parquet_schema(embedding), file_name_suffix=".parquet")
    header = "shard,row,cluster_id,confidence"
    if embedding:
        header += "".join(f",embedding_{i}" for i in range(embedding_dim or 0))
    return (records
            | "ToCsv" >> beam.Map(_csv_line)
            | "WriteCsv" >> beam.io.WriteToText(prefix, file_name_suffix=".csv", header=header))


def assign_clusters(
    model: str | os.PathLike,
    input: str | os.PathLike,
    output: str | os.PathLike,
    output_format: str = "parquet",
    embedding: bool = False,
    runner: str = "DirectRunner",
    num_workers: int = 2,
    max_batch_size: int = 4096,
    pipeline_args: list[str] | None = None,
) -> dict:
    """Assigns a cluster to every row of a set of shards, on Apache Beam.

    Reads `.npy`, `.csv` or TFRecord shards (a glob or a folder), runs the
    exported SavedModel with Beam's `RunInference` (batched by Beam's
    `BatchElements`) and writes Parquet or CSV shards (see
    `build_assign_pipeline` for the columns). The output folder must not
    exist or be empty. When the job succeeds, `<output>/_SUCCESS` (JSON:
    rows, shards, model) is written last; when it fails, everything written
    under `output` is deleted and the error (naming the shard, for a bad
    shard) is raised. Readers should wait for `_SUCCESS`.

    Args:
        model: a SavedModel version folder from `keras-dec export`.
        input: a folder of shards or a glob (`'shards/*.npy'`, `gs://...`).
        output: the output folder.
        output_format: `"parquet"` or `"csv"`.
        embedding: bool, also write each row's embedding.
        runner: a Beam runner name (`DirectRunner`, `DataflowRunner`,
            `FlinkRunner`, `SparkRunner`, ...).
        num_workers: int >= 1, the DirectRunner's worker processes.
        max_batch_size: int >= 1, the largest batch `RunInference` forms.
        pipeline_args: further Beam options (`["--project=p", ...]`).

    Returns:
        A dict: `rows`, `shards`, `output`, `seconds`, `runner`.

    Examples:
        >>> assign_clusters("export/models/dec/1", "shards/*.npy", "out/")  # doctest: +SKIP
        {'rows': 70000, 'shards': 7, ...}
    """
    from keras_dec.export.saved_model import read_metadata

    model, input, output = os.fspath(model), os.fspath(input), os.fspath(output)
    check_choice("output_format", output_format, FORMATS)
    num_workers = check_int("num_workers", num_workers, 1)
    max_batch_size = check_int("max_batch_size", max_batch_size, 1)
    if not FileSystems.exists(FileSystems.join(model, "saved_model.pb")):
        raise FileNotFoundError(
            f"`model` must be a SavedModel version folder (with saved_model.pb), e.g. "
            f"export/models/dec/1. Received: model={model!r}")
    try:
        info = read_metadata(model)
    except (OSError, ValueError) as e:
        raise ValueError(f"`model` {model!r} has no keras-dec metadata ({e}); export it with "
                         "`keras-dec export`.") from None
    shards = _match_shards(input)
    _check_output(output)

    options = ["--runner", runner, *(pipeline_args or [])]
    if runner == "DirectRunner":
        options += [f"--direct_num_workers={num_workers}",
                    "--direct_running_mode=multi_processing",
                    "--default_sdk_harness_log_level=WARNING"]
    start = time.perf_counter()
    try:
        with beam.Pipeline(options=PipelineOptions(options)) as pipeline:
            build_assign_pipeline(
                pipeline, model, shards, output, int(np.prod(info["input_shape"])),
                output_format=output_format, embedding=embedding,
                embedding_dim=info.get("embedding_dim"),
                scaled_by_model=bool(info.get("input_scaling")), max_batch_size=max_batch_size)
        result = pipeline.result
    except BaseException as e:
        _remove_output(output)
        cause = _worker_error(e)
        if cause is None:
            raise
        raise ValueError(f"The assignment job failed: {cause}") from e
    rows = _counter(result, "rows_assigned")
    summary = {"rows": rows, "shards": len(shards), "output": output, "model": model,
               "format": output_format, "embedding": embedding, "runner": runner,
               "seconds": round(time.perf_counter() - start, 3)}
    with FileSystems.create(FileSystems.join(output, SUCCESS_FILE)) as f:
        f.write(json.dumps(summary, indent=2).encode())
    return summary


def _worker_error(error: BaseException) -> str | None:
    """The message of the `ValueError` a worker raised, from the error Beam re-raises.

    In-process runners re-raise the worker's exception; the DirectRunner's
    worker processes send back only its traceback, as a `RuntimeError`.
    """
    if isinstance(error, ValueError):
        return re.sub(r" \[while running '[^']*'\]$", "", str(error))
    found = re.findall(r"^ValueError: (.+?)(?: \[while running '[^']*'\])?$", str(error), re.M)
    return found[-1] if found else None


def _match_shards(source: str) -> list[str]:
    if "://" not in source:
        return list_shards(source)
    pattern = source if any(c in source for c in "*?[") else FileSystems.join(source, "*")
    paths = sorted(m.path for r in FileSystems.match([pattern]) for m in r.metadata_list)
    if not paths:
        raise FileNotFoundError(f"No shard files found. Received: input={source!r}")
    check_shard_names(paths)
    return paths


def _check_output(output: str) -> None:
    if "://" in output:
        if FileSystems.match([FileSystems.join(output, "*")])[0].metadata_list:
            raise ValueError(f"`output` must be empty or new. Received: output={output!r}")
        return
    if os.path.isfile(output) or (os.path.isdir(output) and os.listdir(output)):
        raise ValueError(
            f"`output` must be a new or empty folder (assignment never mixes with or replaces "
            f"earlier results). Received: output={output!r}")


def _remove_output(output: str) -> None:
    """Deletes what a failed job wrote (finished shards and Beam's temporary folders)."""
    try:
        if "://" not in output and os.path.isdir(output):
            for name in os.listdir(output):
                FileSystems.delete([os.path.join(output, name)])
        elif "://" in output:
            matched = FileSystems.match([FileSystems.join(output, "*")])[0].metadata_list
            if matched:
                FileSystems.delete([m.path for m in matched])
    except Exception:  # the job's own error matters more than a failed clean-up
        pass


def _counter(result, name: str) -> int | None:
    try:
        counters = result.metrics().query(MetricsFilter().with_name(name))["counters"]
    except Exception:  # a runner without metrics support
        return None
    return int(sum(c.committed or 0 for c in counters)) if counters else 0
