"""Ensemble runs trained together on JAX: one compiled step over stacked weights, timed.

    KERAS_BACKEND=jax python -m benchmarks.ensemble_vmap --out benchmarks/results/ensemble_vmap

An ensemble's runs are the same network with other seeds, so on JAX their
pretraining steps can be one program: `jax.vmap` of the SGD-with-momentum
step (the autoencoder's `stateless_call`, MSE, the recipe's optimizer) over
weights stacked along a leading seed axis, each seed with its own batch.
This measures, for N seeds, the seconds of one such step against N steps of
the single-seed program (what `train_ensemble` does now, one run after
another), on data of Fashion-MNIST's width (784) and the recipe's
d-500-500-2000-10 at batch 256. Before timing it checks that the stacked
step gives each seed the weights its own step gives (max abs difference).

A step that is bound by its kernels' arithmetic (a CPU) gains nothing: N
seeds cost N times one. A launch-bound step (a small model on a GPU) would
cost about the same for N as for one; that is the case to measure on a GPU.

Writes `<out>/ensemble_vmap.json` and `<out>/ensemble_vmap.md`.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def time_call(fn, repeats: int) -> float:
    """Median seconds of `fn()` (which blocks until its result is ready) after one warm-up."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def measure(n_features: int, dims: tuple[int, ...], batch_size: int, seeds: list[int],
            repeats: int, learning_rate: float = 0.1, momentum: float = 0.9) -> dict:
    import jax
    import jax.numpy as jnp
    import keras

    from keras_dec.backbones.autoencoder import build_autoencoder

    if keras.backend.backend() != "jax":
        raise SystemExit(f"run with KERAS_BACKEND=jax (got {keras.backend.backend()!r})")
    n = max(seeds)
    models = [build_autoencoder(n_features, dims=dims, seed=s)[0] for s in range(n)]
    model = models[0]
    weights = [[jnp.asarray(v.value) for v in m.trainable_variables] for m in models]

    def loss_of(trainable, x):
        y, _ = model.stateless_call(trainable, [], x)
        return jnp.mean(jnp.square(y - x))

    def step(trainable, velocity, x):
        loss, grads = jax.value_and_grad(loss_of)(trainable, x)
        velocity = [momentum * v - learning_rate * g for v, g in zip(velocity, grads, strict=True)]
        return [w + v for w, v in zip(trainable, velocity, strict=True)], velocity, loss

    single = jax.jit(step)
    together = jax.jit(jax.vmap(step))
    rng = np.random.default_rng(0)
    batches = jnp.asarray(rng.random((n, batch_size, n_features), dtype=np.float32))
    zeros = [[jnp.zeros_like(w) for w in ws] for ws in weights]

    # The stacked step is each seed's own step.
    stacked = [jnp.stack(ws) for ws in zip(*weights, strict=True)]
    stacked_zeros = [jnp.zeros_like(w) for w in stacked]
    got, _, _ = together(stacked, stacked_zeros, batches)
    max_diff = 0.0
    for i in range(n):
        want, _, _ = single(weights[i], zeros[i], batches[i])
        max_diff = max(max_diff, max(float(jnp.max(jnp.abs(g[i] - w)))
                                     for g, w in zip(got, want, strict=True)))

    rows = []
    for count in seeds:
        def one_after_another(count=count):
            out = [single(weights[i], zeros[i], batches[i]) for i in range(count)]
            jax.block_until_ready(out)

        s_weights = [jnp.stack(ws[:count]) for ws in zip(*weights, strict=True)]
        s_zeros = [jnp.zeros_like(w) for w in s_weights]
        s_batches = batches[:count]

        def at_once(s_weights=s_weights, s_zeros=s_zeros, s_batches=s_batches):
            jax.block_until_ready(together(s_weights, s_zeros, s_batches))

        sequential, vmapped = time_call(one_after_another, repeats), time_call(at_once, repeats)
        rows.append({"seeds": count, "sequential_s": sequential, "vmapped_s": vmapped,
                     "speedup": sequential / vmapped})
    return {"n_features": n_features, "dims": list(dims), "batch_size": batch_size,
            "max_abs_difference": max_diff, "rows": rows,
            "device": str(jax.devices()[0]), "cpus": os.cpu_count()}


def table(result: dict) -> str:
    lines = [f"Pretraining step, d={result['n_features']}, dims "
             f"{'-'.join(map(str, result['dims']))}, batch {result['batch_size']}, on "
             f"{result['device']} ({result['cpus']} CPUs); the stacked step equals each seed's "
             f"own to {result['max_abs_difference']:.1e}.", "",
             "| seeds | one after another (s/step) | vmapped (s/step) | speed-up |",
             "|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['seeds']} | {r['sequential_s']:.4f} | {r['vmapped_s']:.4f} | "
                     f"{r['speedup']:.2f}x |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, default=784)
    parser.add_argument("--dims", default="500,500,2000,10")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 5, 10])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--out", default="benchmarks/results/ensemble_vmap")
    args = parser.parse_args(argv)
    from keras_dec.utils import atomic

    dims = tuple(int(d) for d in args.dims.split(","))
    result = measure(args.features, dims, args.batch_size, args.seeds, args.repeats)
    text = table(result)
    atomic.write_json(os.path.join(args.out, "ensemble_vmap.json"), result)
    atomic.write_text(os.path.join(args.out, "ensemble_vmap.md"), text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
