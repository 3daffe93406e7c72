"""Quality and time-to-quality of the default recipe (Fashion-MNIST or digits).

    python -m benchmarks.fashion_mnist --seeds 0 1 2 --out benchmarks/results
    python -m benchmarks.fashion_mnist --dataset digits --seeds 0 1 2   # quick check

For each seed: k-means on raw pixels, autoencoder pretraining, autoencoder +
k-means, DEC, with ACC/NMI/ARI, the wall time of each stage, DEC iterations
and whether tol was reached, pretraining throughput and achieved GFLOP/s next
to the machine's float32 matmul rate (measured first, in the same run), the
share of the DEC stage spent outside training steps, and peak RSS. Each seed
is written to `<out>/<dataset>/seed_<n>.json` as soon as it finishes and is
skipped when the file exists, so a long run can be continued; the summary
goes to `<out>/<dataset>/summary.json` and `summary.md`.

With `--curve-every N`, autoencoder + k-means is also measured every N
pretraining epochs (`pretrain_curve` in the seed's JSON: how quality grows with
pretraining time); the seconds those evaluations take are reported as
`seconds.pretrain_curve` and left out of the pretraining and total times.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time

import numpy as np


def matmul_gflops(n: int = 2048, repeats: int = 10) -> float:
    """The machine's float32 matmul rate on the current Keras backend (GFLOP/s)."""
    from keras import ops

    rng = np.random.default_rng(0)
    a = ops.convert_to_tensor(rng.random((n, n), dtype="float32"))
    b = ops.convert_to_tensor(rng.random((n, n), dtype="float32"))
    ops.convert_to_numpy(ops.matmul(a, b))  # warm-up (and compilation)
    start = time.perf_counter()
    for _ in range(repeats):
        out = ops.matmul(a, b)
    ops.convert_to_numpy(out)  # waits for asynchronous backends
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9


def dense_macs(input_dim: int, dims) -> int:
    """Multiply-adds per sample of the symmetric autoencoder's Dense layers."""
    widths = [input_dim, *dims]
    encoder = sum(a * b for a, b in zip(widths[:-1], widths[1:], strict=True))
    return 2 * encoder  # the decoder mirrors the encoder


def run_seed(x, y, seed, recipe, dataset, curve_every: int = 0, baseline: bool = True,
             device_loop: bool | None = None) -> dict:
    import keras

    from keras_dec.backbones.autoencoder import encoder_of
    from keras_dec.pipeline import train_dec

    # The pipeline calls fit once per epoch: state lives in __init__.
    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.epoch_seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self._t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.epoch_seconds.append(time.perf_counter() - self._t)

    class StepTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.step_seconds = 0.0

        def on_train_batch_begin(self, batch, logs=None):
            self._t = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.step_seconds += time.perf_counter() - self._t

    class Curve(keras.callbacks.Callback):
        """AE + k-means every `curve_every` epochs (the pipeline fits one epoch per call)."""

        def __init__(self):
            super().__init__()
            self.points, self.seconds, self.epochs_done = [], 0.0, 0

        def on_epoch_end(self, epoch, logs=None):
            from sklearn.cluster import KMeans

            from keras_dec.metrics import evaluate_clustering

            self.epochs_done += 1
            if self.epochs_done % curve_every:
                return
            start = time.perf_counter()
            z = encoder_of(self.model).predict(x, batch_size=1024, verbose=0)
            labels = KMeans(10, n_init=recipe.n_init, random_state=seed).fit_predict(z)
            point = {"epoch": self.epochs_done, "loss": float(logs["loss"]),
                     **evaluate_clustering(y, labels)}
            self.points.append(point)
            self.seconds += time.perf_counter() - start
            print(f"  epoch {self.epochs_done}: AE+k-means ACC {point['acc']:.4f} "
                  f"NMI {point['nmi']:.4f} (loss {point['loss']:.5f})", flush=True)

    epochs, steps, curve = EpochTimer(), StepTimer(), Curve()
    wall = time.perf_counter()
    _, report = train_dec(x, 10, recipe, y=y, seed=seed, baseline_kmeans=baseline, verbose=0,
                          data_source=dataset,
                          pretrain_callbacks=[epochs, curve] if curve_every else [epochs],
                          dec_callbacks=[steps], device_loop=device_loop)
    # End to end: the input checks and fingerprint, every stage, the final
    # assignment and its scores, without the k-means-on-pixels baseline.
    report["seconds_wall"] = (time.perf_counter() - wall
                              - report["seconds"].get("kmeans_raw", 0.0))
    report["device_loop"] = bool(device_loop if device_loop is not None
                                 else keras.backend.backend() == "jax")
    if curve_every:
        report["pretrain_curve"] = curve.points
        report["seconds"]["pretrain_curve"] = curve.seconds
        for key in ("pretrain", "total"):
            report["seconds"][key] -= curve.seconds
    # The first epoch includes tracing/compilation; throughput uses the rest.
    steady = epochs.epoch_seconds[1:] or epochs.epoch_seconds
    report["pretrain_seconds_per_epoch"] = float(np.median(steady))
    samples_per_s = len(x) / report["pretrain_seconds_per_epoch"]
    macs = dense_macs(x.shape[1], recipe.dims)
    report["pretrain_samples_per_s"] = samples_per_s
    report["pretrain_gflops"] = samples_per_s * macs * 2 * 3 / 1e9  # fwd + bwd = 3x fwd
    dec_seconds = report["seconds"]["dec"]
    report["dec_seconds_in_train_steps"] = steps.step_seconds
    report["dec_seconds_per_step"] = dec_seconds / max(report["dec_iterations"], 1)
    report["dec_fraction_outside_steps"] = 1.0 - steps.step_seconds / dec_seconds
    report["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return report


def _acc(r, method):
    return f"{r[method]['acc']:.3f}" if method in r else "-"


def kmeans_raw_seed(x, y, seed, recipe) -> dict:
    """Only the baseline: k-means (n_init from the recipe) on the raw features."""
    from sklearn.cluster import KMeans

    from keras_dec.metrics import evaluate_clustering

    start = time.perf_counter()
    labels = KMeans(10, n_init=recipe.n_init, random_state=seed).fit_predict(x.reshape(len(x), -1))
    return {"seed": seed, "kmeans_raw": evaluate_clustering(y, labels),
            "seconds": time.perf_counter() - start}


def summarize(results: list[dict], machine: dict) -> tuple[dict, str]:
    def stat(values):
        values = np.asarray(values, dtype="float64")
        return {"mean": float(values.mean()), "std": float(values.std())}

    summary = {"machine": machine, "n_seeds": len(results), "seeds": [r["seed"] for r in results]}
    for method in ("kmeans_raw", "autoencoder_kmeans", "dec"):
        if all(method in r for r in results):
            summary[method] = {m: stat([r[method][m] for r in results])
                               for m in ("acc", "nmi", "ari")}
    for key in ("pretrain", "kmeans_raw", "kmeans_init", "dec", "total"):
        if all(key in r["seconds"] for r in results):
            summary[f"seconds_{key}"] = stat([r["seconds"][key] for r in results])
    if all("seconds_wall" in r for r in results):
        summary["seconds_wall"] = stat([r["seconds_wall"] for r in results])
    for key in ("pretrain_samples_per_s", "pretrain_gflops", "dec_fraction_outside_steps",
                "dec_iterations", "peak_rss_mb"):
        summary[key] = stat([r[key] for r in results])
    summary["converged"] = [r["converged"] for r in results]
    summary["dec_above_ae_kmeans_every_seed"] = all(
        r["dec"]["acc"] > r["autoencoder_kmeans"]["acc"] for r in results
    )
    # Each seed against the matmul rate measured in its own run (a resumed
    # benchmark may have run its seeds on different days or hosts).
    summary["matmul_gflops"] = stat([r["machine"]["matmul_gflops"] for r in results])
    summary["pretrain_fraction_of_matmul_peak"] = stat(
        [r["pretrain_gflops"] / r["machine"]["matmul_gflops"] for r in results]
    )["mean"]

    def cell(method, m):
        if method not in summary:
            return "not run"
        s = summary[method][m]
        return f"{s['mean']:.3f} ± {s['std']:.3f}"

    def pipeline_seconds(r):
        """Pretraining + k-means init + DEC, without the pixel baseline."""
        return r["seconds"]["total"] - r["seconds"].get("kmeans_raw", 0.0)

    lines = [
        "| method | ACC | NMI | ARI |",
        "|---|---|---|---|",
    ]
    for method, name in (("kmeans_raw", "k-means on raw features"),
                         ("autoencoder_kmeans", "autoencoder + k-means"), ("dec", "DEC")):
        cells = " | ".join(cell(method, m) for m in ("acc", "nmi", "ari"))
        lines.append(f"| {name} | {cells} |")
    lines += [
        "",
        "| seed | k-means ACC | AE+k-means ACC | DEC ACC | DEC NMI | DEC iters | tol reached | "
        "pretrain s | k-means init s | DEC s | stages s | end to end s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        wall = f"{r['seconds_wall']:.1f}" if "seconds_wall" in r else "-"
        lines.append(
            f"| {r['seed']} | {_acc(r, 'kmeans_raw')} | {_acc(r, 'autoencoder_kmeans')} | "
            f"{r['dec']['acc']:.3f} | {r['dec']['nmi']:.3f} | {r['dec_iterations']} | "
            f"{r['converged']} | {r['seconds']['pretrain']:.1f} | "
            f"{r['seconds']['kmeans_init']:.1f} | {r['seconds']['dec']:.1f} | "
            f"{pipeline_seconds(r):.1f} | {wall} |"
        )
    curves = [r for r in results if r.get("pretrain_curve")]
    if curves:
        lines += [
            "",
            "AE + k-means during pretraining (`--curve-every`):",
            "",
            "| seed | epoch | ACC | NMI | ARI | reconstruction loss |",
            "|---|---|---|---|---|---|",
        ]
        for r in curves:
            lines += [f"| {r['seed']} | {p['epoch']} | {p['acc']:.3f} | {p['nmi']:.3f} | "
                      f"{p['ari']:.3f} | {p['loss']:.5f} |" for p in r["pretrain_curve"]]
    lines += [
        "",
        f"- pipeline time per seed (pretrain + k-means init + DEC): "
        f"{np.mean([pipeline_seconds(r) for r in results]):.1f} s",
        f"- pretraining: {summary['pretrain_samples_per_s']['mean']:.0f} samples/s, "
        f"{summary['pretrain_gflops']['mean']:.1f} GFLOP/s = "
        f"{100 * summary['pretrain_fraction_of_matmul_peak']:.0f}% of the float32 "
        f"matmul rate measured in the same run ({summary['matmul_gflops']['mean']:.1f} GFLOP/s)",
        f"- DEC stage time outside training steps: "
        f"{100 * summary['dec_fraction_outside_steps']['mean']:.0f}%",
        f"- peak RSS: {summary['peak_rss_mb']['mean']:.0f} MB",
        f"- recipe: {results[0]['recipe']}",
        f"- machine: {machine['cpus']} CPUs, {machine['platform']}, "
        f"Keras backend {machine.get('backend', 'tensorflow')} on "
        f"{machine.get('device', 'CPU, tensorflow ' + str(machine.get('tensorflow')))}, "
        f"date {machine['date']}",
    ]
    return summary, "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=("fashion_mnist", "digits", "mnist"),
                        default="fashion_mnist")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--curve-every", type=int, default=0, metavar="N",
                        help="also measure AE + k-means every N pretraining epochs (0: off)")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip k-means on the raw features (the summary then takes it "
                        "from kmeans_raw_seed_<n>.json files in the same folder, if any)")
    parser.add_argument("--baseline-only", action="store_true",
                        help="run only k-means on the raw features, into "
                        "kmeans_raw_seed_<n>.json (e.g. on a CPU machine, for a GPU run)")
    parser.add_argument("--summarize-only", action="store_true",
                        help="only rewrite summary.json/.md from the seed files in --out "
                        "(e.g. after a run was stopped between seeds)")
    parser.add_argument("--subset", type=int, default=None, metavar="N",
                        help="train each seed on its own seeded random subset of N images "
                        "(small-data checks; seed s draws subset s)")
    parser.add_argument("--device-loop", action=argparse.BooleanOptionalAction, default=None,
                        help="train through DeviceLoop (default: on with KERAS_BACKEND=jax)")
    from keras_dec.cli import add_recipe_flags, recipe_from_args
    from keras_dec.recipe import Recipe

    add_recipe_flags(parser)  # overrides, for quick checks and experiments
    args = parser.parse_args(argv)

    import keras

    from keras_dec import datasets
    from keras_dec.backend import device_description
    from keras_dec.utils import atomic

    folder = os.path.join(args.out, args.dataset)
    if args.summarize_only:
        results = []
        for seed in args.seeds:
            path = os.path.join(folder, f"seed_{seed}.json")
            if os.path.exists(path):
                with open(path, encoding="utf-8") as f:
                    results.append(json.load(f))
        if not results:
            parser.error(f"no seed_<n>.json for seeds {args.seeds} in {folder}")
        write_summary(folder, results, results[0]["machine"])
        return 0

    if args.dataset == "digits":
        x, y = datasets.load_digits()
    elif args.dataset == "fashion_mnist":
        x, y = datasets.load_fashion_mnist(args.data_dir)
    else:
        x, y = datasets.load_mnist(args.data_dir)
    recipe = recipe_from_args(args.dataset, args)
    if args.curve_every < 0:
        parser.error(f"--curve-every must be >= 0, got {args.curve_every}")
    os.makedirs(folder, exist_ok=True)
    machine = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "backend": keras.backend.backend(),
        "device": device_description(),
        "date": time.strftime("%Y-%m-%d"),
        "matmul_gflops": matmul_gflops(),
    }
    if machine["backend"] == "jax":
        import jax

        # None means JAX's default: TF32 for float32 matmuls on NVIDIA Ampere and later.
        machine["jax_default_matmul_precision"] = jax.config.jax_default_matmul_precision
    print(f"float32 matmul rate: {machine['matmul_gflops']:.1f} GFLOP/s", flush=True)
    if args.baseline_only:
        for seed in args.seeds:
            done = kmeans_raw_seed(x, y, seed, recipe)
            done["machine"] = machine
            atomic.write_json(os.path.join(folder, f"kmeans_raw_seed_{seed}.json"), done)
            print(f"seed {seed}: k-means on raw features ACC {done['kmeans_raw']['acc']:.4f} "
                  f"({done['seconds']:.0f} s)", flush=True)
        return 0
    results = []
    for seed in args.seeds:
        path = os.path.join(folder, f"seed_{seed}.json")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                done = json.load(f)
            # Fields added to Recipe since that run count at their defaults.
            if {**Recipe().to_dict(), **done["recipe"]} != recipe.to_dict():
                raise SystemExit(
                    f"{path} was run with another recipe ({done['recipe']}); "
                    "use another --out to compare recipes"
                )
            if done.get("subset") != args.subset:
                raise SystemExit(f"{path} was run with --subset {done.get('subset')}; use "
                                 "another --out to compare subsets")
            done_backend = done.get("backend", "tensorflow")
            if done_backend != machine["backend"]:
                raise SystemExit(
                    f"{path} was run on the {done_backend} backend, this run is on "
                    f"{machine['backend']}; use another --out to compare backends"
                )
            results.append(done)
            print(f"seed {seed}: already done ({path}), skipped", flush=True)
            continue
        xs, ys = x, y
        if args.subset:
            rows = np.sort(np.random.default_rng(seed).choice(len(x), args.subset, replace=False))
            xs, ys = x[rows], y[rows]
        report = run_seed(xs, ys, seed, recipe, args.dataset, args.curve_every,
                          baseline=not args.no_baseline, device_loop=args.device_loop)
        report["machine"] = machine
        report["subset"] = args.subset
        atomic.write_json(path, report)
        results.append(report)
        print(f"seed {seed}: DEC ACC {report['dec']['acc']:.4f} NMI {report['dec']['nmi']:.4f} "
              f"(AE+k-means {report['autoencoder_kmeans']['acc']:.4f}, k-means "
              f"{_acc(report, 'kmeans_raw')}); {report['seconds']['total']:.1f} s in stages, "
              f"{report['seconds_wall']:.1f} s end to end", flush=True)
    write_summary(folder, results, machine)
    return 0


def write_summary(folder: str, results: list[dict], machine: dict) -> None:
    """Writes summary.json/.md, with k-means on raw features from its own files if not run."""
    from keras_dec.utils import atomic

    for report in results:
        baseline = os.path.join(folder, f"kmeans_raw_seed_{report['seed']}.json")
        if "kmeans_raw" not in report and os.path.exists(baseline):
            with open(baseline, encoding="utf-8") as f:
                report["kmeans_raw"] = json.load(f)["kmeans_raw"]
    summary, table = summarize(results, machine)
    atomic.write_json(os.path.join(folder, "summary.json"), summary)
    atomic.write_text(os.path.join(folder, "summary.md"), table)
    print(table)


if __name__ == "__main__":
    raise SystemExit(main())
