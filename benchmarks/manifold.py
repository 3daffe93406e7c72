"""How the clusters come out of a manifold of the autoencoder's embedding: measured per seed.

    KERAS_BACKEND=jax python -m benchmarks.manifold --dataset digits --seeds 0 1 2 3 4 5 6 7 8 9 \\
        --out benchmarks/results/manifold_digits

Per seed, one autoencoder is pretrained (the data set's recipe, as
`train_dec` does it), then, all from that same autoencoder:

- `ae_kmeans`: k-means on the embedding (DEC's start);
- `dec`: DEC as the package trains it;
- `n2d`: N2D exactly as published: umap-learn's UMAP (n_components = K,
  n_neighbors 20, min_dist 0) of the embedding, then a full-covariance
  Gaussian mixture;
- the parametric UMAP head (`keras_dec.manifold`) trained on the same
  fuzzy graph, then (a) `head_gmm`: a full-covariance GMM on its output;
  (b) `head_dec`: DEC's clustering layer from k-means on its output, KL
  fine-tuning of encoder + head + centres; (c) `head_gmm_dec`: the same
  from the GMM's means.

`--methods` picks which of them run (`ae_kmeans` always does);
`--head-steps` sets the head's schedule; `--cache DIR` keeps each seed's
pretrained autoencoder, so another head schedule on the same seeds skips
pretraining; `--set FIELD=VALUE ...` changes the recipe's fields (e.g.
`--set pretrain_optimizer=adam pretrain_learning_rate=0.001`; use another
`--cache` folder for another pretraining).

Writes `<out>/seed_<n>.json` (ACC/NMI/ARI and seconds of each),
`<out>/seed_<n>_labels.npz` (each method's cluster ids) and
`<out>/summary.json` / `summary.md` (mean ± std over seeds).
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import os
import time

import numpy as np

METHODS = ("ae_kmeans", "dec", "n2d", "head_gmm", "head_dec", "head_gmm_dec")


def load_dataset(dataset):
    """`(x, y)` of "digits" or "fashion_mnist" (all 70,000 images)."""
    from keras_dec import datasets

    if dataset == "digits":
        return datasets.load_digits()
    return datasets.load_fashion_mnist()


def run_seed(dataset, seed, recipe, args) -> dict:
    import keras
    from sklearn.cluster import KMeans
    from sklearn.mixture import GaussianMixture

    from keras_dec.backbones.autoencoder import encoder_of
    from keras_dec.backend import enable_determinism
    from keras_dec.manifold import (
        build_manifold_head,
        encoder_gradient_scale,
        fit_manifold_head,
        fuzzy_graph,
        head_gain,
        stack_manifold_head,
        umap_ab,
    )
    from keras_dec.metrics import evaluate_clustering
    from keras_dec.models.dec import DEC
    from keras_dec.pipeline.builders import build_pretraining_autoencoder
    from keras_dec.pipeline.data import prepare_training_data
    from keras_dec.pipeline.epochs import epoch_runner, resolve_device_loop
    from keras_dec.pipeline.run_folder import Checkpoints
    from keras_dec.pipeline.stages import Cluster, InitializeCenters, Pretrain, Run, run_stages

    x, y = load_dataset(dataset)
    k = 10
    keras.utils.set_random_seed(seed)
    enable_determinism()
    data = prepare_training_data(x, k, y=y)
    runner = epoch_runner(resolve_device_loop(None, data), data, seed, 0)
    result, seconds = {"seed": seed, "dataset": dataset}, {}

    def timed(name, fn):
        start = time.perf_counter()
        out = fn()
        seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - start
        return out

    labels = {}

    def score(name, found):
        labels[name] = np.asarray(found, dtype=np.int16)
        result[name] = evaluate_clustering(y, found)

    run = Run(data, recipe, k, seed, Checkpoints(None, {}), runner, verbose=0)
    cached = args.cache and os.path.join(args.cache, f"{dataset}_seed_{seed}.weights.h5")
    if cached and os.path.isfile(cached):
        # The same seed's autoencoder from an earlier run: other head settings, no pretraining.
        run.models["autoencoder"] = build_pretraining_autoencoder(
            recipe, data.n_features, data.n_samples, seed=seed)
        run.models["autoencoder"].load_weights(cached)
    else:
        timed("pretrain", lambda: run_stages([Pretrain()], run))
        if cached:
            os.makedirs(args.cache, exist_ok=True)
            run.models["autoencoder"].save_weights(cached)
    autoencoder = run.models["autoencoder"]
    pretrained = autoencoder.get_weights()
    encoder = encoder_of(autoencoder)
    z = np.asarray(encoder.predict(x, batch_size=4096, verbose=0))
    score("ae_kmeans", timed("ae_kmeans", lambda: KMeans(k, n_init=recipe.n_init,
                                                         random_state=seed).fit_predict(z)))
    if "dec" in args.methods:
        timed("dec", lambda: run_stages([InitializeCenters(), Cluster()], run))
        score("dec", run.models["dec"].predict_clusters(x))

    def gmm(points):
        return GaussianMixture(k, covariance_type="full", random_state=seed).fit(points)

    if "n2d" in args.methods:
        import umap

        u = timed("n2d", lambda: umap.UMAP(n_components=k, n_neighbors=20, min_dist=0.0,
                                           random_state=seed).fit_transform(z))
        score("n2d", timed("n2d", lambda: gmm(u).predict(u)))

    autoencoder.set_weights(pretrained)
    encoder = encoder_of(autoencoder)
    graph = timed("graph", lambda: fuzzy_graph(z, 20, seed=seed))
    head = build_manifold_head(z.shape[1], k, seed=seed)
    losses = timed("head", lambda: fit_manifold_head(
        head, z, graph, *umap_ab(0.0), steps=args.head_steps, batch_size=args.head_batch,
        seed=seed))
    result["head_losses"], result["head_steps"] = losses, args.head_steps
    u = np.asarray(head.predict(z, batch_size=4096, verbose=0))
    mixture = timed("head_gmm", lambda: gmm(u))
    score("head_gmm", mixture.predict(u))
    if recipe.manifold_gradient_scale is None:
        result["manifold_gain"] = head_gain(head, z, seed=seed)
        scale = encoder_gradient_scale(result["manifold_gain"])
    else:
        scale = recipe.manifold_gradient_scale
    result["encoder_gradient_scale"] = scale
    combined = stack_manifold_head(encoder, head, scale)  # as train_dec builds it
    weights = combined.get_weights()
    for name, init in (("head_dec", "kmeans"), ("head_gmm_dec", "gmm")):
        if name not in args.methods:
            continue
        combined.set_weights(weights)
        dec = DEC(combined, n_clusters=k, alpha=recipe.alpha,
                  update_interval=recipe.update_interval, tol=recipe.tol)
        if init == "kmeans":
            dec.initialize_centers(x, n_init=recipe.n_init, seed=seed)
        else:
            dec.set_centers(mixture.means_)
        dec.compile(optimizer=keras.optimizers.SGD(recipe.learning_rate,
                                                   momentum=recipe.momentum))
        run_k = Run(data, recipe, k, seed, Checkpoints(None, {}), runner, verbose=0,
                    models={"dec": dec})
        timed(name, lambda run_k=run_k: run_stages([Cluster()], run_k))
        score(name, dec.predict_clusters(x))
        result[f"{name}_iterations"] = dec.n_iter_
    result["seconds"] = seconds
    result["backend"] = keras.backend.backend()
    return result, labels


def recipe_changes(pairs, recipe) -> dict:
    """`{"field": value}` from `["field=value", ...]`, values parsed as Python literals
    (strings may go unquoted)."""
    fields = {f.name for f in dataclasses.fields(recipe)}
    changes = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or name not in fields:
            raise SystemExit(f"--set takes FIELD=VALUE with a Recipe field. Received: {pair!r}")
        try:
            changes[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            changes[name] = text
    return changes


def summarize(results) -> tuple[dict, str]:
    summary = {}
    for method in METHODS:
        rows = [r[method] for r in results if method in r]
        if rows:
            summary[method] = {m: {"mean": float(np.mean([r[m] for r in rows])),
                                   "std": float(np.std([r[m] for r in rows]))}
                               for m in ("acc", "nmi", "ari")}
    lines = ["| method | ACC | NMI | ARI | per seed ACC |", "|---|---|---|---|---|"]
    for method, s in summary.items():
        per_seed = " / ".join(f"{r[method]['acc']:.3f}" for r in results if method in r)
        lines.append(f"| {method} | {s['acc']['mean']:.3f} ± {s['acc']['std']:.3f} | "
                     f"{s['nmi']['mean']:.3f} ± {s['nmi']['std']:.3f} | "
                     f"{s['ari']['mean']:.3f} ± {s['ari']['std']:.3f} | {per_seed} |")
    stages = sorted({stage for r in results for stage in r.get("seconds", {})})
    summary["seconds"] = {stage: float(np.mean([r["seconds"][stage] for r in results
                                                if stage in r.get("seconds", {})]))
                          for stage in stages}
    lines += ["", "Seconds per seed, mean (each method's time is what it adds after "
              "pretraining; the head options share `graph` and `head`):", "",
              "| " + " | ".join(stages) + " |", "|" + "---|" * len(stages),
              "| " + " | ".join(f"{summary['seconds'][s]:.0f}" for s in stages) + " |"]
    return summary, "\n".join(lines) + "\n"


def main(argv=None) -> int:
    from keras_dec.recipe import RECIPES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits", choices=("digits", "fashion_mnist"))
    parser.add_argument("--recipe", default=None, help="a keras_dec.RECIPES name")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--head-steps", type=int, default=2000)
    parser.add_argument("--head-batch", type=int, default=4096)
    parser.add_argument("--out", default="benchmarks/results/manifold")
    parser.add_argument("--cache", default=None,
                        help="a folder for each seed's pretrained autoencoder weights: "
                             "saved after pretraining, loaded instead of it when present")
    parser.add_argument("--set", nargs="+", default=[], metavar="FIELD=VALUE",
                        help="recipe fields to change, e.g. pretrain_optimizer=adam")
    args = parser.parse_args(argv)
    recipe = RECIPES[args.recipe or args.dataset]
    recipe = recipe.replace(**recipe_changes(args.set, recipe))
    from keras_dec.utils import atomic

    results = []
    for seed in args.seeds:
        path = os.path.join(args.out, f"seed_{seed}.json")
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                results.append(json.load(f))
            continue
        result, labels = run_seed(args.dataset, seed, recipe, args)
        result["recipe"] = recipe.to_dict()
        # Every method's partition, for the label-free ensemble choice (benchmarks.ensemble);
        # written first, so that a seed's JSON means both are there.
        with atomic.atomic_path(os.path.join(args.out, f"seed_{seed}_labels.npz"),
                                suffix=".npz") as tmp:
            np.savez_compressed(tmp, **labels)
        atomic.write_json(path, result)
        results.append(result)
        print(json.dumps({m: result[m] for m in METHODS if m in result}), flush=True)
    summary, table = summarize(results)
    atomic.write_json(os.path.join(args.out, "summary.json"), summary)
    atomic.write_text(os.path.join(args.out, "summary.md"), table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
