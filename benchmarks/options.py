"""Each clustering option against plain DEC, same data, seeds and recipe otherwise.

    KERAS_BACKEND=jax python -m benchmarks.options --dataset digits --seeds 0 1 2 3 4 5 6 7 8 9 \\
        --out benchmarks/results/options

Runs `benchmarks.fashion_mnist` once per option into `<out>/<option>/`
(k-means on raw features only for the first option: it does not depend on
the option) and writes `<out>/<dataset>_options.json` / `.md`: mean ± std of
ACC, NMI and ARI for AE + k-means and for the clustering stage, per option,
and the per-seed ACC difference to DEC. With one seed, the pretraining and
the k-means initialisation are the same for every option (same seeded
weights and order), so the difference is the clustering stage's alone.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

# Option name -> recipe flags for a data set.
OPTIONS = {
    "dec": lambda dataset: [],
    # IDEC with its own optimizer (keras_dec.RECIPES["<dataset>_idec"]).
    "idec": lambda dataset: ["--recipe", f"{dataset}_idec"],
    # DEC-DA (Guo et al. 2018): augmented pretraining and clustering; or pretraining only.
    "augment": lambda dataset: ["--augment", "all"],
    "augment_pretrain": lambda dataset: ["--augment", "pretrain"],
    "idec_augment": lambda dataset: ["--recipe", f"{dataset}_idec", "--augment", "all"],
    # DCEC's convolutional autoencoder (keras_dec.RECIPES["<dataset>_conv"]), then DEC.
    "conv": lambda dataset: ["--recipe", f"{dataset}_conv"],
    "conv_augment": lambda dataset: ["--recipe", f"{dataset}_conv", "--augment", "all"],
    # Pretraining budgeted in steps: at least 20,000 (2,400 are 300 epochs of digits).
    "pretrain_20k_steps": lambda dataset: ["--pretrain-min-steps", "20000"],
}
DEFAULT_OPTIONS = ("dec", "idec")
METRICS = ("acc", "nmi", "ari")


def _seed_results(folder: str, seeds) -> list[dict]:
    results = []
    for seed in seeds:
        with open(os.path.join(folder, f"seed_{seed}.json"), encoding="utf-8") as f:
            results.append(json.load(f))
    return results


def _stat(values) -> dict:
    return {"mean": float(np.mean(values)), "std": float(np.std(values))}


def main(argv=None) -> int:
    from benchmarks import fashion_mnist

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits", choices=("digits", "fashion_mnist"))
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--options", nargs="+", default=list(DEFAULT_OPTIONS),
                        choices=list(OPTIONS))
    parser.add_argument("--out", default="benchmarks/results/options")
    args, extra = parser.parse_known_args(argv)  # extra: recipe flags for every option

    seeds = [str(s) for s in args.seeds]
    for i, option in enumerate(args.options):
        flags = ["--dataset", args.dataset, "--seeds", *seeds,
                 "--out", os.path.join(args.out, option), *OPTIONS[option](args.dataset),
                 *extra]
        if i:
            flags.append("--no-baseline")
        fashion_mnist.main(flags)

    table, per_seed = {}, {}
    for option in args.options:
        runs = _seed_results(os.path.join(args.out, option, args.dataset), args.seeds)
        table[option] = {
            stage: {m: _stat([r[stage][m] for r in runs]) for m in METRICS}
            for stage in ("autoencoder_kmeans", "dec")
        }
        table[option]["seconds_total"] = _stat([sum(r["seconds"].values()) for r in runs])
        per_seed[option] = [r["dec"]["acc"] for r in runs]
    base = args.options[0]
    lines = [f"# Clustering options on {args.dataset}, seeds {args.seeds[0]}-{args.seeds[-1]}",
             "", "| option | AE + k-means ACC | ACC | NMI | ARI | ACC - " + base +
             " (per seed, mean) | better than " + base + " |", "|---|---|---|---|---|---|---|"]
    for option, stats in table.items():
        diff = np.subtract(per_seed[option], per_seed[base])
        cells = [f"{stats['dec'][m]['mean']:.3f} ± {stats['dec'][m]['std']:.3f}" for m in METRICS]
        ae = stats["autoencoder_kmeans"]["acc"]
        lines.append(f"| {option} | {ae['mean']:.3f} ± {ae['std']:.3f} | " + " | ".join(cells)
                     + f" | {diff.mean():+.3f} | {int((diff > 0).sum())} of {len(diff)} |")
        stats["acc_minus_" + base] = diff.tolist()
    report = {"dataset": args.dataset, "seeds": args.seeds, "extra_flags": extra,
              "options": {o: OPTIONS[o](args.dataset) for o in args.options}, "results": table,
              "dec_acc_per_seed": per_seed}
    with open(os.path.join(args.out, f"{args.dataset}_options.json"), "w") as f:
        json.dump(report, f, indent=2)
    with open(os.path.join(args.out, f"{args.dataset}_options.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
