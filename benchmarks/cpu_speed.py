"""Training speed on this CPU, per backend and loop, against the matmul rate of the same run.

    python -m benchmarks.cpu_speed --out benchmarks/results/cpu_speed

For each Keras backend (each in its own process, one after the other, so
they never share the cores), on random data of Fashion-MNIST's shape
(70,000 x 784; the speed does not depend on the values):

- the float32 matmul rate: n x n matmuls (n = 4096, the best of five), and
  the rate of the autoencoder's own matmuls at batch 256 (each Dense
  layer's forward and two backward products, timed alone): what the
  kernels can do for this model, with no training loop around them;
- seconds per pretraining epoch (d-500-500-2000-10, batch 256, SGD),
  median of epochs 2..E (the first compiles), through `fit` and through
  the device loop where the backend has one, as `train_dec` runs them;
- DEC: seconds per step (the slope between epochs of two lengths with no
  target refresh), seconds per target refresh (one pass over the 70,000
  rows), and the share of a real DEC epoch (a refresh every 140 steps)
  spent outside training steps: the epoch's time less the time between
  each batch's (or stretch's) begin and end callbacks, which hold the
  steps and the refreshes, as `benchmarks.fashion_mnist` counts it. That
  is the per-epoch set-up: building the feed, starting `fit`, callbacks.

Writes `<out>/cpu_speed.json` and `<out>/cpu_speed.md`, with the host's CPU
model and core count.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

BACKENDS = ("tensorflow", "jax", "torch")
DIMS = (500, 500, 2000, 10)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def layer_shapes(n_features: int) -> list[tuple[int, int]]:
    widths = [n_features, *DIMS]
    encoder = list(zip(widths[:-1], widths[1:], strict=True))
    return encoder + [(b, a) for a, b in reversed(encoder)]


def epoch_flops(n_rows: int, n_features: int) -> float:
    """FLOPs of one pretraining epoch: 2 per multiply-add, x3 for forward + backward."""
    return 2.0 * 3.0 * n_rows * sum(a * b for a, b in layer_shapes(n_features))


def step_timer():
    """A Keras callback summing the seconds between each batch's begin and end
    (Keras is imported in the worker only, after its backend is set)."""
    import keras

    class StepTimer(keras.callbacks.Callback):
        total = 0.0

        def on_train_batch_begin(self, batch, logs=None):
            self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.total += time.perf_counter() - self.start

    return StepTimer()


def _timed(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def compiled(fn):
    """`fn` compiled the way the backend runs a training step (`tf.function`, `jax.jit`)."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(fn)
    if backend == "jax":
        import jax

        return jax.jit(fn)
    return fn  # PyTorch runs eagerly


def matmul_rates(n_features: int, batch: int) -> dict:
    import keras
    from keras import ops

    rng = np.random.default_rng(0)
    n = 4096
    a = ops.convert_to_tensor(rng.random((n, n), dtype="float32"))
    # The product itself is returned (a reduction of it could be fused into a slower kernel).
    square = compiled(lambda a: ops.matmul(a, a))
    keras.ops.convert_to_numpy(square(a))
    peak = 2.0 * n ** 3 / _timed(lambda: keras.ops.convert_to_numpy(square(a)), 5)
    # The model's own products at batch 256: forward x @ W, and the two
    # backward products dL/dW = x^T @ g and dL/dx = g @ W^T.
    products = []
    for d_in, d_out in layer_shapes(n_features):
        x = rng.random((batch, d_in), dtype="float32")
        w = rng.random((d_in, d_out), dtype="float32")
        g = rng.random((batch, d_out), dtype="float32")
        products += [(x, w), (np.ascontiguousarray(x.T), g), (g, np.ascontiguousarray(w.T))]
    flops = sum(2.0 * u.shape[0] * u.shape[1] * v.shape[1] for u, v in products)
    tensors = [ops.convert_to_tensor(t) for pair in products for t in pair]

    def all_products(*tensors):
        return [ops.matmul(tensors[i], tensors[i + 1]) for i in range(0, len(tensors), 2)]

    def run():
        for product in model_products(*tensors):
            keras.ops.convert_to_numpy(product)

    model_products = compiled(all_products)
    run()
    seconds = _timed(run, 5)
    return {"matmul_gflops": peak / 1e9, "model_matmul_gflops": flops / seconds / 1e9}


def worker(args) -> dict:
    import keras

    from keras_dec.backend import DeviceLoop, device_description
    from keras_dec.pipeline.builders import (
        build_clustering_model,
        build_pretraining_autoencoder,
        compile_clustering_model,
    )
    from keras_dec.pipeline.data import prepare_training_data
    from keras_dec.pipeline.epochs import epoch_runner
    from keras_dec.recipe import Recipe

    keras.utils.set_random_seed(0)
    backend = keras.backend.backend()
    result = {"backend": backend, "device": device_description(), **matmul_rates(
        args.features, 256)}
    x = np.random.default_rng(0).random((args.rows, args.features), dtype="float32")
    data = prepare_training_data(x, 10)
    # tol 0: the timed epochs run all their steps (a converged DEC would stop early).
    recipe = Recipe(update_interval=140, tol=0.0)
    loops = [False] + ([True] if DeviceLoop is not None else [])
    flops = epoch_flops(args.rows, args.features)
    for device_loop in loops:
        name = "device_loop" if device_loop else "fit"
        runner = epoch_runner(device_loop, data, 0, 0)
        autoencoder = build_pretraining_autoencoder(recipe, args.features, args.rows, seed=0)
        seconds = []
        for epoch in range(args.epochs):
            start = time.perf_counter()
            runner.pretrain(autoencoder, epoch, args.epochs, [], 256)
            seconds.append(time.perf_counter() - start)
        per_epoch = float(np.median(seconds[1:]))
        result[f"pretrain_{name}"] = {
            "seconds_per_epoch": per_epoch, "epochs": seconds,
            "gflops": flops / per_epoch / 1e9,
            "share_of_matmul": flops / per_epoch / 1e9 / result["matmul_gflops"],
            "share_of_model_matmul": flops / per_epoch / 1e9 / result["model_matmul_gflops"],
        }
        # DEC on this autoencoder: centres from k-means on a sample.
        dec = build_clustering_model(recipe.replace(update_interval=10**9), autoencoder, 10)
        dec.initialize_centers(x[:5000], n_init=1, seed=0, check_input=False)
        compile_clustering_model(recipe, dec)
        steps = -(-args.rows // 256)
        # Epochs of two lengths with no refresh (interval 10**9; the first epoch's
        # refresh at step 0 aside): the slope is the time per step, the intercept
        # the set-up of an epoch. Each length runs twice; the second is timed.
        timed = {}
        for i, n in enumerate((steps, steps // 2) * 3):
            start = time.perf_counter()
            runner.cluster(dec, i, n, 6, [], 256)
            timed[n] = min(timed.get(n, float("inf")), time.perf_counter() - start)
        step_seconds = (timed[steps] - timed[steps // 2]) / (steps - steps // 2)
        setup_seconds = timed[steps] - steps * step_seconds
        refresh_seconds = _timed(
            lambda dec=dec: dec.refresh_target(data.refresh_data(), ordered=True), 2)
        # A real DEC epoch: a refresh every 140 steps.
        real = build_clustering_model(recipe, autoencoder, 10)
        real.set_centers(dec.cluster_centers_)
        compile_clustering_model(recipe, real)
        runner.cluster(real, 0, steps, 3, [], 256)  # compiles
        epoch_seconds, inside = float("inf"), 0.0
        for epoch in (1, 2):  # refreshes at steps 280, 420 and 560, 700: two each
            timer = step_timer()
            start = time.perf_counter()
            _, records = runner.cluster(real, epoch, steps, 3, [timer], 256)
            seconds = time.perf_counter() - start
            if seconds < epoch_seconds:
                epoch_seconds, inside = seconds, timer.total
        result[f"dec_{name}"] = {
            "seconds_per_step": step_seconds, "seconds_per_refresh": refresh_seconds,
            "seconds_setup_per_epoch": setup_seconds,
            "epoch_seconds": epoch_seconds, "refreshes_per_epoch": len(records),
            "share_outside_steps": 1.0 - inside / epoch_seconds,
            "share_in_refreshes": len(records) * refresh_seconds / epoch_seconds,
        }
    return result


def table(results: list[dict], host: dict) -> str:
    lines = [
        f"Host: {host['cpu']}, {host['cores']} cores; {host['rows']:,} x {host['features']} "
        f"rows, batch 256, d-500-500-2000-10; {host['date']}.",
        "",
        "| backend | loop | matmul GFLOP/s (n=4096) | the model's matmuls at batch 256, GFLOP/s "
        "| pretrain s/epoch | GFLOP/s | share of n=4096 rate | share of model-matmul rate | "
        "DEC ms/step | refresh s | DEC epoch: in refreshes | DEC epoch: outside steps |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for loop in ("fit", "device_loop"):
            if f"pretrain_{loop}" not in r:
                continue
            p, d = r[f"pretrain_{loop}"], r[f"dec_{loop}"]
            lines.append(
                f"| {r['backend']} | {loop} | {r['matmul_gflops']:.0f} | "
                f"{r['model_matmul_gflops']:.0f} | {p['seconds_per_epoch']:.2f} | "
                f"{p['gflops']:.0f} | {100 * p['share_of_matmul']:.0f}% | "
                f"{100 * p['share_of_model_matmul']:.0f}% | {1000 * d['seconds_per_step']:.1f} | "
                f"{d['seconds_per_refresh']:.2f} | {100 * d['share_in_refreshes']:.0f}% | "
                f"{100 * d['share_outside_steps']:.0f}% |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/cpu_speed")
    parser.add_argument("--rows", type=int, default=70_000)
    parser.add_argument("--features", type=int, default=784)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print("RESULT " + json.dumps(worker(args)), flush=True)
        return 0
    results = []
    for backend in args.backends:
        print(f"== {backend}", flush=True)
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.cpu_speed", "--worker", "--rows", str(args.rows),
             "--features", str(args.features), "--epochs", str(args.epochs)],
            env={**os.environ, "KERAS_BACKEND": backend}, capture_output=True, text=True)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
        if proc.returncode != 0 or not lines:
            print(proc.stderr[-3000:], file=sys.stderr)
            return 1
        results.append(json.loads(lines[-1][len("RESULT "):]))
        print(json.dumps(results[-1], indent=1), flush=True)
    host = {"cpu": cpu_model(), "cores": os.cpu_count(), "rows": args.rows,
            "features": args.features, "date": time.strftime("%Y-%m-%d %H:%M")}
    from keras_dec.utils import atomic

    atomic.write_json(os.path.join(args.out, "cpu_speed.json"), {"host": host,
                                                                 "results": results})
    text = table(results, host)
    atomic.write_text(os.path.join(args.out, "cpu_speed.md"), text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
