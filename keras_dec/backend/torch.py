"""DEC's training step on the PyTorch backend: `zero_grad` / `backward` / `optimizer.apply`."""

from __future__ import annotations

import keras
import torch

from keras_dec.backend.common import array_fit_inputs as fit_inputs  # noqa: F401
from keras_dec.backend.common import array_predict_inputs as predict_inputs  # noqa: F401

# No device loop: PyTorch steps run eagerly, one launch per op whatever the loop.
DeviceLoop = None


def device_loop_by_default() -> bool:
    """No device loop here: PyTorch's steps are eager anyway."""
    return False


class DECTrainer:
    """`train_step`/`test_step` for `DEC` on PyTorch, as in Keras' PyTorch guide."""

    def train_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        self.zero_grad()
        loss, per_sample = self.dec_loss(x, training=True)
        loss.backward()
        variables = self.trainable_weights
        gradients = [v.value.grad for v in variables]
        with torch.no_grad():
            self.optimizer.apply(gradients, variables)
            return self.dec_update_state(per_sample.detach())

    def test_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        with torch.no_grad():
            _, per_sample = self.dec_loss(x, training=False)
            return self.dec_update_state(per_sample, count_step=False)


def compile_function(model, fn):
    """`fn(*args)` run eagerly without autograd (Keras' own PyTorch predict path)."""
    del model

    def call(*args):
        with torch.no_grad():
            return fn(*args)

    return call


def device_description() -> str:
    """The device training runs on, e.g. `"cuda (NVIDIA H200)"` or `"cpu"`, and the version."""
    if torch.cuda.is_available():
        device = f"cuda ({torch.cuda.get_device_name(0)})"
    else:
        device = "cpu"
    return f"{device}, torch {torch.__version__}"


def enable_determinism() -> None:
    """PyTorch's deterministic algorithms (errors on ops that have none)."""
    torch.use_deterministic_algorithms(True)
