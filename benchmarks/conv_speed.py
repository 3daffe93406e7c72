"""Training speed of the conv backbone on each Keras backend (ms per step).

    python -m benchmarks.conv_speed --out benchmarks/results/conv_speed

Fits `build_conv_autoencoder` (DCEC's filters, Adam) on random 8x8 and 28x28
images, batch 256, in one fresh process per backend: one warm-up epoch, then
the mean time of the next `--steps` steps. Writes `conv_speed.json` / `.md`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

BACKENDS = ("tensorflow", "jax", "torch")

_CHILD = """
import json, sys, time
import keras, numpy as np
from keras_dec.backbones.conv_autoencoder import build_conv_autoencoder
side, steps = int(sys.argv[1]), int(sys.argv[2])
x = np.random.default_rng(0).random((256 * steps, side * side)).astype("float32")
autoencoder, _ = build_conv_autoencoder((side, side), 10, seed=0)
autoencoder.compile(optimizer=keras.optimizers.Adam(0.001), loss="mse")
autoencoder.fit(x, x, batch_size=256, epochs=1, verbose=0)
start = time.perf_counter()
autoencoder.fit(x, x, batch_size=256, epochs=1, verbose=0)
print(json.dumps({"ms_per_step": 1000 * (time.perf_counter() - start) / steps}))
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--out", default="benchmarks/results/conv_speed")
    args = parser.parse_args(argv)
    results = {}
    for side in (8, 28):
        for backend in BACKENDS:
            env = {**os.environ, "KERAS_BACKEND": backend}
            out = subprocess.run([sys.executable, "-c", _CHILD, str(side), str(args.steps)],
                                 env=env, capture_output=True, text=True, check=True).stdout
            results[f"{side}x{side} {backend}"] = json.loads(out.splitlines()[-1])["ms_per_step"]
            print(f"{side}x{side} {backend}: {results[f'{side}x{side} {backend}']:.1f} ms/step",
                  flush=True)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "conv_speed.json"), "w") as f:
        json.dump({"steps": args.steps, "ms_per_step": results}, f, indent=2)
    lines = ["| images | " + " | ".join(BACKENDS) + " |", "|---" * (len(BACKENDS) + 1) + "|"]
    for side in (8, 28):
        lines.append(f"| {side}x{side} | " + " | ".join(
            f"{results[f'{side}x{side} {b}']:.1f}" for b in BACKENDS) + " |")
    with open(os.path.join(args.out, "conv_speed.md"), "w") as f:
        f.write("ms per training step of the conv autoencoder, batch 256\n\n"
                + "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
