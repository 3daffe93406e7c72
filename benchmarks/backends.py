"""The same benchmark on the TensorFlow, JAX and PyTorch backends, side by side, in one run.

    python -m benchmarks.backends --dataset fashion_mnist --seeds 0 \\
        --pretrain-epochs 5 --max-iter 1000 --out benchmarks/results/backends_cpu

Runs `benchmarks.fashion_mnist` once per backend, each in its own process
(Keras fixes its backend per process), one after the other so they do not
share the cores, into `<out>/<backend>/`, then writes `<out>/backends.json`
and `<out>/backends.md`: pretraining seconds per epoch (median, first epoch
excluded), DEC seconds per step and for the stage, the whole pipeline, and
ACC/NMI per seed. Every flag after the ones below goes to the benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np

BACKENDS = ("tensorflow", "jax", "torch")


def run_backend(backend: str, out: str, dataset: str, seeds, extra) -> list[dict]:
    folder = os.path.join(out, backend)
    cmd = [sys.executable, "-m", "benchmarks.fashion_mnist", "--dataset", dataset,
           "--seeds", *map(str, seeds), "--out", folder, *extra]
    env = {**os.environ, "KERAS_BACKEND": backend}
    print(f"== {backend}: {' '.join(cmd)}", flush=True)
    subprocess.run(cmd, env=env, check=True)
    results = []
    for seed in seeds:
        with open(os.path.join(folder, dataset, f"seed_{seed}.json"), encoding="utf-8") as f:
            results.append(json.load(f))
    return results


def compare(by_backend: dict[str, list[dict]]) -> tuple[dict, str]:
    rows = {}
    for backend, results in by_backend.items():
        def mean(key, results=results):
            return float(np.mean([key(r) for r in results]))

        rows[backend] = {
            "device": results[0]["machine"].get("device"),
            "matmul_gflops": mean(lambda r: r["machine"]["matmul_gflops"]),
            "pretrain_seconds_per_epoch": mean(lambda r: r["pretrain_seconds_per_epoch"]),
            "pretrain_seconds": mean(lambda r: r["seconds"]["pretrain"]),
            "kmeans_init_seconds": mean(lambda r: r["seconds"]["kmeans_init"]),
            "dec_seconds": mean(lambda r: r["seconds"]["dec"]),
            "dec_iterations": mean(lambda r: r["dec_iterations"]),
            "dec_seconds_per_step": mean(lambda r: r["dec_seconds_per_step"]),
            "pipeline_seconds": mean(
                lambda r: r["seconds"]["total"] - r["seconds"].get("kmeans_raw", 0.0)),
            "acc": [r["dec"]["acc"] for r in results],
            "nmi": [r["dec"]["nmi"] for r in results],
            "ae_kmeans_acc": [r["autoencoder_kmeans"]["acc"] for r in results],
        }
    base = rows.get("tensorflow")
    lines = [
        "| backend | device | pretrain s/epoch | DEC s/step | DEC stage s (steps) | "
        "pipeline s | vs TensorFlow | AE+k-means ACC | DEC ACC | DEC NMI |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for backend, r in rows.items():
        speed = f"{base['pipeline_seconds'] / r['pipeline_seconds']:.2f}x" if base else "n/a"
        lines.append(
            f"| {backend} | {r['device']} | {r['pretrain_seconds_per_epoch']:.2f} | "
            f"{1000 * r['dec_seconds_per_step']:.1f} ms | {r['dec_seconds']:.1f} "
            f"({r['dec_iterations']:.0f}) | {r['pipeline_seconds']:.1f} | {speed} | "
            f"{' / '.join(f'{v:.3f}' for v in r['ae_kmeans_acc'])} | "
            f"{' / '.join(f'{v:.3f}' for v in r['acc'])} | "
            f"{' / '.join(f'{v:.3f}' for v in r['nmi'])} |"
        )
    recipe = next(iter(by_backend.values()))[0]["recipe"]
    lines += ["", f"- recipe: {recipe}",
              "- pipeline = pretraining + k-means initialisation + DEC (k-means on raw "
              "features left out); each backend ran alone, one after the other."]
    return rows, "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--out", default="benchmarks/results/backends_cpu")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    args, extra = parser.parse_known_args(argv)
    by_backend = {b: run_backend(b, args.out, args.dataset, args.seeds, extra)
                  for b in args.backends}
    rows, table = compare(by_backend)
    from keras_dec.utils import atomic

    atomic.write_json(os.path.join(args.out, "backends.json"), rows)
    atomic.write_text(os.path.join(args.out, "backends.md"), table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
