"""Peak memory of `keras-dec train` streaming N and 8N rows from `.npy` shards.

    python -m benchmarks.streaming_memory --out benchmarks/results/streaming_memory

Writes synthetic 64-D data (ten Gaussian blobs, min-max scaled to [0, 1]) as
`.npy` shards of 100,000 rows, N rows and 8N rows (N = 200,000 by default),
then runs `keras-dec train --data '<dir>/*.npy'` on each in a fresh process
and records that process's peak resident set size (`ru_maxrss`: anonymous
memory and mapped file pages alike) and its wall time. The training budget is
small (one pretraining epoch, 300 DEC steps, target refreshes every 100
steps) but touches every row several times: the data check, the scaling fit,
one pretraining epoch, four refresh passes, the sample for k-means.

For comparison it also trains the in-memory path (`--data` one `.npy` of
the same rows, loaded whole) at N and 8N. Writes
`<out>/streaming_memory.json` and prints a table. Target: streaming peak RSS
grows less than 20% from N to 8N.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

SHARD_ROWS = 100_000
FEATURES = 64
TRAIN_FLAGS = ["--n-clusters", "10", "--seed", "0", "--quiet", "--pretrain-epochs", "1",
               "--max-iter", "300", "--update-interval", "100", "--tol", "0"]
# Runs `keras-dec train` in this process and prints its peak RSS (KiB on Linux) last.
_CHILD = ("import resource, sys; from keras_dec.cli import main; rc = main(sys.argv[1:]); "
          "print('peak_rss_kib', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); "
          "sys.exit(rc)")


def write_shards(folder: str, n_rows: int, seed: int = 0) -> None:
    """Ten blobs in 64-D, written shard by shard (never all rows at once)."""
    os.makedirs(folder)
    rng = np.random.default_rng(seed)
    centers = np.random.default_rng(1).uniform(0.2, 0.8, (10, FEATURES))
    for i, start in enumerate(range(0, n_rows, SHARD_ROWS)):
        n = min(SHARD_ROWS, n_rows - start)
        x = centers[rng.integers(10, size=n)] + rng.normal(0, 0.05, (n, FEATURES))
        np.save(os.path.join(folder, f"part-{i:04d}.npy"), np.clip(x, 0, 1).astype("float32"))


def train(data: str, output: str) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, "train", "--data", data, "--output", output,
         *TRAIN_FLAGS], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode:
        raise RuntimeError(result.stderr[-3000:])
    peak = int(result.stdout.strip().splitlines()[-1].split()[-1])
    with open(os.path.join(output, "metrics.json")) as f:
        metrics = json.load(f)
    return {"peak_rss_mib": round(peak / 1024, 1), "seconds": round(seconds, 1),
            "shards": metrics.get("shards"), "kmeans_sample": metrics.get("kmeans_sample"),
            "dec_iterations": metrics["dec_iterations"],
            "target_refreshes": metrics["target_refreshes"],
            "data_mib": round(metrics["n_samples"] * FEATURES * 4 / 2**20, 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="N")
    parser.add_argument("--out", default="benchmarks/results/streaming_memory")
    args = parser.parse_args(argv)

    scratch = tempfile.mkdtemp(prefix="stream-mem-")
    runs = {"streamed": {}, "in_memory": {}}
    try:
        for n in (args.rows, 8 * args.rows):
            folder = os.path.join(scratch, f"data-{n}")
            write_shards(folder, n)
            whole = os.path.join(scratch, f"whole-{n}.npy")
            np.save(whole, np.concatenate([np.load(os.path.join(folder, name))
                                           for name in sorted(os.listdir(folder))]))
            for mode, data in (("streamed", os.path.join(folder, "*.npy")),
                               ("in_memory", whole)):
                r = runs[mode][str(n)] = train(data, os.path.join(scratch, f"run-{mode}-{n}"))
                print(f"{mode:9s} {n:>9} rows  peak RSS {r['peak_rss_mib']:8.1f} MiB  "
                      f"({r['data_mib']} MiB of data)  {r['seconds']} s", flush=True)
            shutil.rmtree(folder)
            os.remove(whole)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    growth = {mode: r[str(8 * args.rows)]["peak_rss_mib"] / r[str(args.rows)]["peak_rss_mib"] - 1
              for mode, r in runs.items()}
    result = {"features": FEATURES, "shard_rows": SHARD_ROWS, "train_flags": TRAIN_FLAGS,
              "runs": runs, "peak_rss_growth": {k: round(v, 4) for k, v in growth.items()},
              "target": "streamed growth < 0.20", "met": bool(growth["streamed"] < 0.20),
              "cpus": os.cpu_count()}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "streaming_memory.json"), "w") as f:
        json.dump(result, f, indent=2)
    print(f"peak RSS growth from N to 8N: streamed {100 * growth['streamed']:+.1f}% "
          f"(target < 20%: {'met' if result['met'] else 'MISSED'}), in memory "
          f"{100 * growth['in_memory']:+.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
