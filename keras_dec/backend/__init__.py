"""The backend-specific pieces of DEC's training, one small module per Keras backend.

As Keras keeps `keras/src/backend/<name>/trainer.py`, each module here holds
what cannot be written once in `keras.ops`:

- `DECTrainer`, a mixin with DEC's `train_step`/`test_step` in the form the
  backend's Keras guide gives (TensorFlow: `GradientTape`; JAX: the
  stateless `train_step(state, data)`; PyTorch: `zero_grad`/`backward`/
  `optimizer.apply`). The loss itself is `DEC.dec_loss`, written once.
- `compile_function(model, fn)`, which compiles a function of the model's
  current weights (the target refresh's per-batch pass).
- `enable_determinism()`, the backend's switch for deterministic kernels.
- `fit_inputs(x, batch_size)` and `predict_inputs(x, batch_size)`, the fastest
  in-order feeds of an array to `fit` and `predict`.
- `device_description()`, the device and framework version, for benchmarks.
- `DeviceLoop`, training with the data on the device and many steps per
  compiled call (`jax_loop.py`, `tensorflow_loop.py`, on `stretch_loop.py`),
  or None where `fit`'s own loop is the fast path (PyTorch, whose steps are
  eager anyway); `device_loop_by_default()`, whether `train_dec` uses it.

The module is chosen once, at import, from `keras.backend.backend()`.
"""

from __future__ import annotations

import keras

BACKEND = keras.backend.backend()

if BACKEND == "tensorflow":
    from keras_dec.backend.tensorflow import (
        DECTrainer,
        DeviceLoop,
        compile_function,
        device_description,
        device_loop_by_default,
        enable_determinism,
        fit_inputs,
        predict_inputs,
    )
elif BACKEND == "jax":
    from keras_dec.backend.jax import (
        DECTrainer,
        DeviceLoop,
        compile_function,
        device_description,
        device_loop_by_default,
        enable_determinism,
        fit_inputs,
        predict_inputs,
    )
elif BACKEND == "torch":
    from keras_dec.backend.torch import (
        DECTrainer,
        DeviceLoop,
        compile_function,
        device_description,
        device_loop_by_default,
        enable_determinism,
        fit_inputs,
        predict_inputs,
    )
else:
    raise ImportError(
        "keras-dec trains on the `tensorflow`, `jax` and `torch` Keras backends. "
        f"Received: KERAS_BACKEND={BACKEND!r}"
    )

__all__ = [
    "BACKEND",
    "DeviceLoop",
    "DECTrainer",
    "compile_function",
    "device_loop_by_default",
    "device_description",
    "enable_determinism",
    "fit_inputs",
    "predict_inputs",
]
