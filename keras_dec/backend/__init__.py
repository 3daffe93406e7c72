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
- `fit_inputs(x, batch_size)`, the fastest in-order feed of an array to `fit`.
- `device_description()`, the device and framework version, for benchmarks.
- `DeviceLoop`, training with the data on the accelerator and many steps
  per compiled call (`keras_dec/backend/jax_loop.py`), or None where `fit`'s
  own loop is the fast path (TensorFlow's `tf.function` epoch feed, and
  PyTorch, whose steps are eager anyway).

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
        enable_determinism,
        fit_inputs,
    )
elif BACKEND == "jax":
    from keras_dec.backend.jax import (
        DECTrainer,
        DeviceLoop,
        compile_function,
        device_description,
        enable_determinism,
        fit_inputs,
    )
elif BACKEND == "torch":
    from keras_dec.backend.torch import (
        DECTrainer,
        DeviceLoop,
        compile_function,
        device_description,
        enable_determinism,
        fit_inputs,
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
    "device_description",
    "enable_determinism",
    "fit_inputs",
]
