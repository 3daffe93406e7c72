"""Does the label-free ensemble choice beat the mean single run? Measured on saved runs.

    python -m benchmarks.ensemble --runs benchmarks/results/manifold_digits --size 5

`benchmarks.manifold` saves every method's cluster ids per seed
(`seed_<n>_labels.npz`), each seed with its own pretraining: exactly the
runs an ensemble trains. For every subset of `--size` seeds (every
ensemble that could have been trained from them) and every method, this
picks a run the way `train_dec(ensemble=N)` does (`keras_dec.pipeline.
ensemble`: the largest mean ARI with the other runs; also the same rule
with NMI, for comparison) and compares the picked run's ACC, known from
the labels that the choice did not see, with the ensemble's runs:

- `gain_sd`: (picked ACC - mean ACC of the ensemble's runs) / their std,
  averaged over the ensembles (the issue's target: >= 0.5);
- `gain_acc`: the same, in ACC;
- `picked_acc`: the picked run's ACC, mean and std over the ensembles;
- `above_median`: how often the picked run's ACC is above the ensemble's
  median (ties count half).

Writes `<runs>/ensemble_<size>.json` and `.md`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os

import numpy as np
from sklearn.metrics import normalized_mutual_info_score

from keras_dec.pipeline.ensemble import agreement_matrix, choose_run


def load_runs(folder: str) -> tuple[list[int], dict, dict]:
    """The seeds with saved labels, `{method: [labels per seed]}`, `{method: [ACC per seed]}`."""
    seeds, labels, accs = [], {}, {}
    for name in sorted(os.listdir(folder)):
        if not (name.startswith("seed_") and name.endswith(".json")):
            continue
        path = os.path.join(folder, name)
        npz = path.replace(".json", "_labels.npz")
        if not os.path.isfile(npz):
            continue
        with open(path, encoding="utf-8") as f:
            result = json.load(f)
        saved = np.load(npz)
        seeds.append(result["seed"])
        for method in saved.files:
            labels.setdefault(method, []).append(saved[method])
            accs.setdefault(method, []).append(result[method]["acc"])
    return seeds, labels, accs


def nmi_matrix(partitions) -> np.ndarray:
    n = len(partitions)
    m = np.eye(n)
    for i, j in itertools.combinations(range(n), 2):
        m[i, j] = m[j, i] = normalized_mutual_info_score(partitions[i], partitions[j])
    return m


def feature_scores(x, partitions, seed: int = 0) -> dict:
    """Per-run label-free indices of each partition in the input features (one space for
    every run, unlike each run's own embedding): larger is better for each."""
    from sklearn.metrics import (
        calinski_harabasz_score,
        davies_bouldin_score,
        silhouette_score,
    )

    x = np.asarray(x, dtype="float32").reshape(len(x), -1)
    sample = min(len(x), 5000)
    return {
        "silhouette_features": np.array([silhouette_score(x, p, sample_size=sample,
                                                          random_state=seed)
                                         for p in partitions]),
        "calinski_harabasz_features": np.array([calinski_harabasz_score(x, p)
                                                for p in partitions]),
        "neg_davies_bouldin_features": np.array([-davies_bouldin_score(x, p)
                                                 for p in partitions]),
    }


def measure(partitions, accs, size: int, scores: dict | None = None) -> dict:
    """The choice over every subset of `size` runs, for the ARI and the NMI rule (and
    for picking the largest of each per-run score in `scores`)."""
    accs = np.asarray(accs)
    rules = {"ari": agreement_matrix(partitions), "nmi": nmi_matrix(partitions),
             **(scores or {})}
    out = {}
    for rule, full in rules.items():
        gains_sd, gains, above, picked_accs = [], [], [], []
        for subset in itertools.combinations(range(len(partitions)), size):
            idx = list(subset)
            if full.ndim == 2:
                picked = idx[choose_run(full[np.ix_(idx, idx)])]
            else:
                picked = idx[int(np.argmax(full[idx]))]
            runs = accs[idx]
            picked_accs.append(accs[picked])
            gains.append(accs[picked] - runs.mean())
            if runs.std() > 0:
                gains_sd.append((accs[picked] - runs.mean()) / runs.std())
            median = np.median(runs)
            above.append(1.0 if accs[picked] > median else 0.5 if accs[picked] == median else 0.0)
        out[rule] = {"ensembles": len(gains), "gain_sd": float(np.mean(gains_sd)),
                     "gain_acc": float(np.mean(gains)), "above_median": float(np.mean(above)),
                     "picked_acc": {"mean": float(np.mean(picked_accs)),
                                    "std": float(np.std(picked_accs))}}
    return out


def main(argv=None) -> int:
    from keras_dec.utils import atomic

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", required=True, help="a benchmarks.manifold output folder")
    parser.add_argument("--size", type=int, default=5, help="runs per ensemble")
    parser.add_argument("--dataset", choices=("digits", "fashion_mnist"), default=None,
                        help="also try per-run label-free indices in this data set's input "
                        "features as the rule (silhouette, Calinski-Harabasz, Davies-Bouldin)")
    args = parser.parse_args(argv)
    seeds, labels, accs = load_runs(args.runs)
    if len(seeds) < args.size:
        raise SystemExit(f"{args.runs} holds {len(seeds)} seeds with labels; --size "
                         f"{args.size} needs that many. Received: --size {args.size}")
    results = {"seeds": seeds, "size": args.size, "methods": {}}
    lines = [f"Ensembles of {args.size} runs drawn from seeds {seeds} (every subset); the run "
             "picked without labels, against the ensemble's runs.", "",
             "| method | rule | ensembles | mean run ACC | picked run's ACC | "
             "picked - mean (ACC) | picked - mean (SDs) | picked above median | "
             "all seeds: picked ACC / mean |",
             "|---|---|---|---|---|---|---|---|---|"]
    x = None
    if args.dataset:
        from benchmarks.manifold import load_dataset

        x = load_dataset(args.dataset)[0]
    for method in labels:
        scores = feature_scores(x, labels[method]) if x is not None else None
        measured = measure(labels[method], accs[method], args.size, scores)
        full = {rule: int(np.asarray(seeds)[choose_run(m)])
                for rule, m in (("ari", agreement_matrix(labels[method])),
                                ("nmi", nmi_matrix(labels[method])))}
        full.update({rule: int(np.asarray(seeds)[int(np.argmax(v))])
                     for rule, v in (scores or {}).items()})
        results["methods"][method] = {"rules": measured, "picked_of_all": full,
                                      "mean_acc": float(np.mean(accs[method])),
                                      "std_acc": float(np.std(accs[method]))}
        for rule, m in measured.items():
            picked_acc = accs[method][seeds.index(full[rule])]
            lines.append(f"| {method} | {rule} | {m['ensembles']} | "
                         f"{np.mean(accs[method]):.3f} ± {np.std(accs[method]):.3f} | "
                         f"{m['picked_acc']['mean']:.3f} ± {m['picked_acc']['std']:.3f} | "
                         f"{m['gain_acc']:+.3f} | {m['gain_sd']:+.2f} | "
                         f"{m['above_median']:.0%} | seed {full[rule]}: {picked_acc:.3f} / "
                         f"{np.mean(accs[method]):.3f} |")
    table = "\n".join(lines) + "\n"
    stem = os.path.join(args.runs, f"ensemble_{args.size}")
    atomic.write_json(stem + ".json", results)
    atomic.write_text(stem + ".md", table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
