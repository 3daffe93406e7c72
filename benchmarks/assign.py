"""Rows per second: `keras-dec assign` (Beam DirectRunner) against `keras-dec predict`.

    python -m benchmarks.assign --out benchmarks/results/assign

A DEC model with the paper's d-500-500-2000-10 encoder on 784 features
(Fashion-MNIST's shape; random weights, which do not change the cost) is
exported as a SavedModel. The same N rows are written as one `.npy` for
`keras-dec predict` and as S `.npy` shards for `keras-dec assign`. Each
command runs in a fresh process, as a user would run it, timed from start to
exit (so both include Python, TensorFlow and model start-up); `assign` runs
with 1 and 2 DirectRunner workers. Writes `<out>/assign.json` and prints a
table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np


def _prepare(folder: str, n_rows: int, n_shards: int) -> str:
    from keras_dec import DEC, build_autoencoder
    from keras_dec.datasets.shards import write_shard
    from keras_dec.export import export_saved_model

    _, encoder = build_autoencoder(784, seed=0)
    dec = DEC(encoder, n_clusters=10)
    x = np.random.default_rng(0).random((n_rows, 784), dtype="float32")
    dec.set_centers(np.asarray(encoder.predict(x[:10], verbose=0)))
    model = export_saved_model(dec, os.path.join(folder, "export"))
    np.save(os.path.join(folder, "all.npy"), x)
    os.makedirs(os.path.join(folder, "shards"))
    for i, part in enumerate(np.array_split(x, n_shards)):
        write_shard(os.path.join(folder, "shards", f"part-{i:03d}.npy"), part)
    return model


def _timed(args: list[str]) -> float:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "keras_dec.cli", *args], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=70_000)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--out", default="benchmarks/results/assign")
    args = parser.parse_args(argv)

    folder = tempfile.mkdtemp(prefix="assign-bench-")
    model = _prepare(folder, args.rows, args.shards)
    runs = {"predict (SavedModel, 1 process)": _timed(
        ["predict", "--model", model, "--input", os.path.join(folder, "all.npy"),
         "--output", os.path.join(folder, "ids.npy")])}
    for workers in (1, 2):
        out = os.path.join(folder, f"out{workers}")
        runs[f"assign (DirectRunner, {workers} worker{'s' * (workers > 1)}, parquet)"] = _timed(
            ["assign", "--model", model, "--input", os.path.join(folder, "shards"),
             "--output", out, "--num-workers", str(workers)])
        with open(os.path.join(out, "_SUCCESS")) as f:
            assert json.load(f)["rows"] == args.rows
    result = {"rows": args.rows, "shards": args.shards, "features": 784,
              "cpus": os.cpu_count(),
              "runs": {k: {"seconds": round(v, 2), "rows_per_second": round(args.rows / v)}
                       for k, v in runs.items()}}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "assign.json"), "w") as f:
        json.dump(result, f, indent=2)
    print(f"{args.rows} rows x 784 features, {args.shards} shards, {os.cpu_count()} CPUs")
    for name, r in result["runs"].items():
        print(f"{name:45s} {r['seconds']:7.1f} s  {r['rows_per_second']:8d} rows/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
