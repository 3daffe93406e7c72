"""How one training epoch runs: through `fit`, or through the JAX `DeviceLoop`.

The choice is made once per run (`epoch_runner`); the stages call the
runner's `pretrain` and `cluster` and never ask which loop they are on.
Both loops see the same seeded sample order, take the same steps and give
the same results.
"""

from __future__ import annotations

import contextlib

import keras
import numpy as np

from keras_dec.backend import DeviceLoop, device_loop_by_default
from keras_dec.callbacks.target_refresh import TargetRefresh
from keras_dec.pipeline.data import TrainingData
from keras_dec.pipeline.seeding import epoch_order


def resolve_device_loop(device_loop: bool | None, data: TrainingData | None = None) -> bool:
    """`train_dec`'s `device_loop`: None means "where it is the backend's fast path".

    `DeviceLoop` runs on one device with the data in memory; under a
    `keras.distribution` (data parallel over several devices), or for a
    streamed data set, training goes through `fit`.

    Examples:
        >>> resolve_device_loop(False)
        False
    """
    distributed = keras.distribution.distribution() is not None
    streamed = data is not None and not data.in_memory
    if device_loop is None:
        return device_loop_by_default() and not distributed and not streamed
    if not isinstance(device_loop, bool):
        raise TypeError(f"`device_loop` must be True, False or None. Received: "
                        f"device_loop={device_loop!r}")
    if device_loop and streamed:
        raise ValueError("`device_loop=True` needs the data on the device; a ShardStream "
                         "streams it. Received: device_loop=True with a ShardStream")
    if device_loop and DeviceLoop is None:
        raise ValueError(
            "`device_loop=True` needs the JAX or TensorFlow backend. Received: "
            f"device_loop=True on the {keras.backend.backend()} backend"
        )
    if device_loop and distributed:
        raise ValueError(
            "`device_loop=True` trains on one device, but a keras.distribution is set "
            f"({type(keras.distribution.distribution()).__name__}); leave device_loop=None "
            "to train through fit, which shards. Received: device_loop=True"
        )
    return device_loop


class FitEpochs:
    """One `fit` call per epoch, fed in the epoch's seeded order (every backend)."""

    def __init__(self, data: TrainingData, seed: int | None, verbose: int):
        self.data, self.seed = data, seed
        self.verbose = "auto" if verbose else 0

    def pretrain(self, autoencoder: keras.Model, epoch: int, epochs: int, callbacks,
                 batch_size: int, rows: np.ndarray | None = None) -> float:
        """One pretraining epoch on the scaled rows (or `rows`); returns its loss."""
        inputs = self.data.epoch_inputs("pretrain", epoch, batch_size, self.seed, pairs=True,
                                        rows=rows)
        with self._read_errors_named():
            history = autoencoder.fit(**inputs, shuffle=False, initial_epoch=epoch,
                                      epochs=epoch + 1, callbacks=callbacks,
                                      verbose=self.verbose)
        return history.history["loss"][-1]

    def cluster(self, dec, epoch: int, steps: int, epochs: int, callbacks, batch_size: int):
        """One DEC epoch of `steps` steps; returns its logs and target-refresh records."""
        inputs = self.data.epoch_inputs("dec", epoch, batch_size, self.seed, steps=steps)
        with self._read_errors_named():
            history = dec.fit(**inputs, shuffle=False, initial_epoch=epoch, epochs=epoch + 1,
                              callbacks=callbacks, verbose=self.verbose,
                              target_data=self.data.refresh_data(), target_data_ordered=True,
                              refresh_labels=self.data.y, check_input=False)
        return {key: values[-1] for key, values in history.history.items()}, history.refreshes

    @contextlib.contextmanager
    def _read_errors_named(self):
        """A read of the data that failed inside `fit` is raised as its one-line cause."""
        try:
            yield
        except Exception:
            error = self.data.read_error()
            if error is None:
                raise
            raise ValueError(f"{error} Training stopped; the last checkpoint is intact.") from None


class DeviceEpochs(FitEpochs):
    """Epochs through `DeviceLoop` (JAX): the rows stay on the device, many steps per call."""

    def __init__(self, data: TrainingData, seed: int | None, verbose: int):
        super().__init__(data, seed, verbose)
        self._loops = {}

    def _loop(self, model, rows, batch_size, pairs=False):
        loop = self._loops.get(id(model))
        if loop is None or loop.model is not model:
            loop = self._loops[id(model)] = DeviceLoop(model, rows, batch_size, pairs=pairs)
        return loop

    def _callbacks(self, callbacks, model, epochs, batch_size):
        steps = -(-self.data.n_samples // batch_size)
        return keras.callbacks.CallbackList(callbacks, model=model, verbose=self.verbose,
                                            epochs=epochs, steps=steps)

    def pretrain(self, autoencoder, epoch, epochs, callbacks, batch_size, rows=None):
        loop = self._loop(autoencoder, self.data.x_fit, batch_size, pairs=True)
        if rows is not None:
            loop.set_data(rows)
        order = epoch_order(self.data.n_samples, self.seed, "pretrain", epoch)
        return loop.fit_epoch(order, epoch, self._callbacks(callbacks, autoencoder, epochs,
                                                            batch_size))["loss"]

    def cluster(self, dec, epoch, steps, epochs, callbacks, batch_size):
        loop = self._loop(dec, self.data.x, batch_size)
        order = epoch_order(self.data.n_samples, self.seed, "dec", epoch)[:steps * batch_size]
        # What `DEC.fit` adds: the refresh over the whole data set, here the
        # copy already on the device (same values, same order, so labels are cached).
        refresher = TargetRefresh(loop.x, ordered=True, labels=self.data.y)
        callback_list = self._callbacks([refresher, *callbacks], dec, epochs, batch_size)
        logs = loop.fit_epoch(order, epoch, callback_list,
                              steps_to_callback=refresher.steps_to_refresh)
        dec.refresh_log_.extend(refresher.records)
        return logs, refresher.records


def epoch_runner(device_loop: bool, data: TrainingData, seed: int | None,
                 verbose: int) -> FitEpochs:
    """The run's epoch loop: `DeviceEpochs` with `device_loop`, else `FitEpochs`."""
    return (DeviceEpochs if device_loop else FitEpochs)(data, seed, verbose)
