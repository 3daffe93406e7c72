#!/usr/bin/env bash
# Issue 11's GPU run: the reference recipe on Fashion-MNIST, KERAS_BACKEND=jax,
# five seeds, on the accelerator machine (one H200), from the repository root:
#
#   bash benchmarks/h200.sh OUT [SEED ...]        # default seeds: 0 1 2 3 4
#
# First a short probe of the per-step cost with Keras' `fit` loop against
# `DeviceLoop` (3 pretraining epochs, 1,000 DEC steps each) and the seconds
# of an ensemble's steps stacked with vmap (OUT/ensemble_vmap/), then the
# reference recipe (300 pretraining epochs, DEC to tol, at most 20,000 steps)
# for each seed into OUT/fashion_mnist/ (seed_<n>.json, summary.json/.md).
# k-means on the raw pixels is left out there (minutes on the CPU, and not
# part of the pipeline); run it anywhere with
# `python -m benchmarks.fashion_mnist --baseline-only --seeds ... --out OUT`.
#
# Where the machine lacks Keras, carry the wheels (keras, namex, optree) in
# .whl/ and the four Fashion-MNIST .gz files in FASHION_MNIST_DIR
# (default .data/fashion-mnist). EXTRA_FLAGS go to every benchmark call (for
# a quick check on a CPU: EXTRA_FLAGS="--pretrain-epochs 1 --max-iter 50").
set -euo pipefail
out=${1:?usage: bash benchmarks/h200.sh OUT [SEED ...]}
shift
seeds=${*:-0 1 2 3 4}
data=${FASHION_MNIST_DIR:-.data/fashion-mnist}
python=${PYTHON:-python3}
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1
if [ -d .whl ] && ! "$python" -c "import keras" 2>/dev/null; then
  "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site:${PYTHONPATH:-}
fi
export PYTHONPATH=.:${PYTHONPATH:-}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || true
"$python" -c "import jax, keras; print('jax', jax.__version__, jax.devices(), 'keras', keras.__version__)"
for loop in no-device-loop device-loop; do
  echo "== probe: --$loop"
  "$python" -m benchmarks.fashion_mnist --data-dir "$data" --seeds 0 --no-baseline "--$loop" \
    --pretrain-epochs 3 --max-iter 1000 --out "/tmp/probe-$loop" ${EXTRA_FLAGS:-} \
    | grep -E "^(seed|float32|- pretraining|- pipeline)"
done
echo "== an ensemble's pretraining steps stacked with vmap, 1-10 seeds (seconds)"
"$python" -m benchmarks.ensemble_vmap --out "$out/ensemble_vmap"
echo "== reference recipe, seeds $seeds"
# shellcheck disable=SC2086
"$python" -m benchmarks.fashion_mnist --data-dir "$data" --seeds $seeds --no-baseline \
  --recipe fashion_mnist --out "$out" ${EXTRA_FLAGS:-}
