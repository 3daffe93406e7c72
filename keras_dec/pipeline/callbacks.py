"""The callbacks every training stage of the pipeline adds to the user's."""

from __future__ import annotations

import keras
import numpy as np


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or Inf."""


class StopOnNonFinite(keras.callbacks.Callback):
    """Stops at the end of an epoch whose loss is NaN or Inf, before it is checkpointed.

    The logged loss is the epoch's running mean, so one non-finite step keeps
    it non-finite: checking once per epoch catches it without a host round
    trip per step (which would stall an accelerator).

    Args:
        stage: str, the stage's name in the error message ("pretraining").

    Examples:
        >>> StopOnNonFinite("pretraining").stage
        'pretraining'
    """

    def __init__(self, stage: str):
        super().__init__()
        self.stage = stage

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(float(loss)):
            step = int(self.model.optimizer.iterations.numpy())
            raise NonFiniteLossError(
                f"The {self.stage} loss became {float(loss)} in epoch {epoch + 1} (by step "
                f"{step}). Training stopped; the last checkpoint (if any) is intact. "
                "Lower the learning rate or check the data scaling."
            )


class StageProgress(keras.callbacks.ProgbarLogger):
    """Keras' progress bar showing the stage's true epoch total ("Epoch 77/300").

    The pipeline runs one `fit` per epoch so it can checkpoint and resume;
    a plain progress bar would show "Epoch 77/77".

    Args:
        total_epochs: int, the stage's number of epochs.

    Examples:
        >>> StageProgress(300).total_epochs
        300
    """

    def __init__(self, total_epochs: int):
        super().__init__()
        self.total_epochs = total_epochs

    def set_params(self, params):
        super().set_params(params)
        self.epochs = self.total_epochs
