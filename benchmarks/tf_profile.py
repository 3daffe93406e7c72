"""Where a TensorFlow pretraining epoch goes: input pipeline, per-step dispatch, kernels.

    python -m benchmarks.tf_profile --out benchmarks/results/cpu_speed

One process on TensorFlow, random data of Fashion-MNIST's shape, the
d-500-500-2000-10 autoencoder, batch 256. Times (median of 3 epochs after a
first, compiling one):

- `input`: building and draining one epoch's `fit` feed (the reordered
  220 MB copy, `from_tensor_slices`, batching) with no training;
- `fit`: an epoch through `fit` with that feed (what `train_dec` did);
- `fit_spe32`: the same with `steps_per_execution=32` (Keras runs 32
  steps per `tf.function` call: the per-step dispatch is amortised);
- `device_loop`: `DeviceLoop`, the rows in one tensor, a stretch of steps
  in one `tf.function` (what `train_dec` does now);
- `kernels`: the autoencoder's matmuls at batch 256 alone, as FLOPs at the
  rate measured for them (`benchmarks.cpu_speed`).

Writes `<out>/tf_profile.json` and `<out>/tf_profile.md`.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/cpu_speed")
    parser.add_argument("--rows", type=int, default=70_000)
    args = parser.parse_args(argv)
    import keras

    from benchmarks.cpu_speed import cpu_model, epoch_flops, matmul_rates
    from keras_dec.backend import fit_inputs
    from keras_dec.pipeline.builders import build_pretraining_autoencoder
    from keras_dec.pipeline.data import prepare_training_data
    from keras_dec.pipeline.epochs import epoch_runner
    from keras_dec.pipeline.seeding import epoch_order
    from keras_dec.recipe import Recipe

    if keras.backend.backend() != "tensorflow":
        raise SystemExit(f"This profiles TensorFlow. Received: KERAS_BACKEND="
                         f"{keras.backend.backend()}")
    x = np.random.default_rng(0).random((args.rows, 784), dtype="float32")
    data = prepare_training_data(x, 10)
    recipe = Recipe()

    def median_epoch(run_epoch):
        seconds = []
        for epoch in range(4):
            start = time.perf_counter()
            run_epoch(epoch)
            seconds.append(time.perf_counter() - start)
        return float(np.median(seconds[1:]))

    def drain(epoch):
        for _ in fit_inputs(x[epoch_order(len(x), 0, "pretrain", epoch)], 256, pairs=True)["x"]:
            pass

    times = {"input": median_epoch(drain)}
    for name, options in (("fit", {}), ("fit_spe32", {"steps_per_execution": 32})):
        autoencoder = build_pretraining_autoencoder(recipe, 784, args.rows, seed=0)
        autoencoder.compile(optimizer=autoencoder.optimizer, loss="mse", **options)
        runner = epoch_runner(False, data, 0, 0)
        times[name] = median_epoch(lambda e, a=autoencoder, r=runner: r.pretrain(a, e, 4, [], 256))
    autoencoder = build_pretraining_autoencoder(recipe, 784, args.rows, seed=0)
    runner = epoch_runner(True, data, 0, 0)
    times["device_loop"] = median_epoch(lambda e: runner.pretrain(autoencoder, e, 4, [], 256))
    rates = matmul_rates(784, 256)
    flops = epoch_flops(args.rows, 784)
    times["kernels"] = flops / (rates["model_matmul_gflops"] * 1e9)
    result = {"host": cpu_model(), "rows": args.rows, "seconds": times, **rates}
    lines = [f"TensorFlow pretraining epoch, {args.rows:,} x 784, batch 256, {cpu_model()}, "
             f"{time.strftime('%Y-%m-%d %H:%M')}:", "",
             "| what | s per epoch | share of the fit epoch |", "|---|---|---|"]
    for name, value in times.items():
        lines.append(f"| {name} | {value:.2f} | {100 * value / times['fit']:.0f}% |")
    text = "\n".join(lines) + "\n"
    from keras_dec.utils import atomic

    atomic.write_json(os.path.join(args.out, "tf_profile.json"), result)
    atomic.write_text(os.path.join(args.out, "tf_profile.md"), text)
    print(text)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
