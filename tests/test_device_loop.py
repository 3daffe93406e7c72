"""`DeviceLoop` (JAX and TensorFlow): the data on the device, a stretch of steps per compiled
call.

The loop must be a faster way to run the same steps, never a different
training: every comparison here is against Keras' own `fit` on the same
batches in the same order, on the same backend, so the tolerance only has
to cover XLA fusing a step inside a loop differently from a lone step.
"""

import keras
import numpy as np
import pytest
from conftest import BACKEND

from keras_dec.backend import DeviceLoop
from keras_dec.callbacks.target_refresh import TargetRefresh
from keras_dec.datasets import load_digits
from keras_dec.pipeline import train_dec
from keras_dec.recipe import Recipe

with_loop = pytest.mark.skipif(DeviceLoop is None, reason=f"{BACKEND} has no DeviceLoop")

# Same program, same inputs, same order: only fusion may differ (0.0 was
# measured on CPU); 1e-5 relative is far below what would move a label.
RTOL = 1e-5


def _close(a, b):
    for u, v in zip(a, b, strict=True):
        u, v = np.asarray(u, "float64"), np.asarray(v, "float64")
        assert np.max(np.abs(u - v)) <= RTOL * (np.max(np.abs(u)) + 1e-12)


def _autoencoder():
    model = keras.Sequential([
        keras.Input((8,)),
        keras.layers.Dense(6, activation="relu", kernel_initializer=keras.initializers.GlorotUniform(1)),
        keras.layers.Dense(8, kernel_initializer=keras.initializers.GlorotUniform(2)),
    ])
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss="mse")
    return model


class _Events(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.events = []

    def on_train_batch_begin(self, batch, logs=None):
        self.events.append(("begin", batch))

    def on_train_batch_end(self, batch, logs=None):
        self.events.append(("end", batch))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(("epoch", epoch, sorted(logs)))


@with_loop
def test_one_epoch_equals_fit_on_the_same_batches_including_a_partial_one():
    x = np.random.default_rng(0).random((50, 8)).astype("float32")
    order = np.random.default_rng(1).permutation(50)
    reference, model = _autoencoder(), _autoencoder()
    history = reference.fit(x[order], x[order], batch_size=16, shuffle=False, epochs=1,
                            verbose=0)
    events = _Events()
    logs = DeviceLoop(model, x, batch_size=16, pairs=True).fit_epoch(order, 0, [events])
    _close(reference.get_weights(), model.get_weights())
    assert logs["loss"] == pytest.approx(history.history["loss"][0], rel=RTOL)
    assert int(model.optimizer.iterations.numpy()) == 4  # 3 full batches + 2 samples
    # One stretch for the whole epoch: callbacks see its first and last step.
    assert events.events == [("begin", 0), ("end", 3), ("epoch", 0, ["loss"])]


@with_loop
def test_stretches_end_where_the_callback_asks():
    x = np.random.default_rng(0).random((64, 8)).astype("float32")
    model = _autoencoder()
    events = _Events()
    stops = iter([3, 2, 100])
    DeviceLoop(model, x, batch_size=8, pairs=True).fit_epoch(
        np.arange(64), 0, [events], steps_to_callback=lambda: next(stops))
    assert [e for e in events.events if e[0] == "end"] == [("end", 2), ("end", 4), ("end", 7)]
    assert int(model.optimizer.iterations.numpy()) == 8


@with_loop
def test_an_uncompiled_model_is_refused():
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(8)], name="ae")
    with pytest.raises(ValueError, match="`model` must be compiled.*uncompiled Sequential 'ae'"):
        DeviceLoop(model, np.zeros((4, 8), "float32"), batch_size=2, pairs=True)


@with_loop
def test_new_data_of_the_same_shape_trains_on_it():
    x = np.random.default_rng(0).random((32, 8)).astype("float32")
    other = np.random.default_rng(1).random((32, 8)).astype("float32")
    reference, model = _autoencoder(), _autoencoder()
    reference.fit(other, other, batch_size=16, shuffle=False, epochs=1, verbose=0)
    loop = DeviceLoop(model, x, batch_size=16, pairs=True)
    loop.set_data(other)
    loop.fit_epoch(np.arange(32), 0)
    _close(reference.get_weights(), model.get_weights())
    with pytest.raises(ValueError, match=r"`x` must keep the shape \(32, 8\). Received: x with "
                       r"shape \(31, 8\)"):
        loop.set_data(other[:31])


def _digits_run(device_loop, **kwargs):
    x, y = load_digits()
    recipe = Recipe(dims=(32, 16, 8), pretrain_epochs=3, pretrain_learning_rate=0.1,
                    update_interval=7, max_iter=40, tol=0.0)
    return train_dec(x[:300], 10, recipe, y=y[:300], seed=0, verbose=0,
                     device_loop=device_loop, **kwargs)


@with_loop
def test_the_pipeline_on_the_device_loop_equals_the_pipeline_on_fit():
    (fit_dec, fit_report), (loop_dec, loop_report) = _digits_run(False), _digits_run(True)
    assert fit_report["dec_iterations"] == loop_report["dec_iterations"] == 40
    # Every 7 steps, across the boundaries of the 2-step epochs (300 samples, batch 256).
    steps = [r["step"] for r in loop_report["refreshes"]]
    assert steps == [r["step"] for r in fit_report["refreshes"]] == list(range(0, 40, 7))
    _close(fit_dec.get_weights(), loop_dec.get_weights())
    x = load_digits()[0][:300]
    np.testing.assert_array_equal(fit_dec.predict_clusters(x), loop_dec.predict_clusters(x))
    for key in ("autoencoder_kmeans", "dec"):
        assert loop_report[key] == pytest.approx(fit_report[key], rel=RTOL)
    assert loop_report["history"]["label_change"] == pytest.approx(
        fit_report["history"]["label_change"], rel=RTOL)


class _Interrupt(keras.callbacks.Callback):
    """Stops the run at the end of `epoch`, before that epoch's checkpoint."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


@with_loop
@pytest.mark.parametrize("stage", ["pretrain", "dec"])
def test_a_run_interrupted_mid_stage_resumes_to_the_same_model(tmp_path, stage):
    whole, _ = _digits_run(True)
    callbacks = {f"{stage}_callbacks": [_Interrupt(1 if stage == "pretrain" else 5)]}
    with pytest.raises(KeyboardInterrupt):
        _digits_run(True, output=tmp_path, **callbacks)
    resumed, report = _digits_run(True, output=tmp_path)
    assert "resumed" not in report  # trained on from the checkpoint, not loaded as finished
    _close(whole.get_weights(), resumed.get_weights())


def test_the_device_loop_is_refused_where_the_backend_has_none():
    if DeviceLoop is not None:
        pytest.skip("this backend has a device loop")
    x = np.random.default_rng(0).random((40, 4)).astype("float32")
    with pytest.raises(ValueError, match=r"device_loop=True.*tensorflow|device_loop=True.*torch"):
        train_dec(x, 2, Recipe(dims=(4, 2), pretrain_epochs=1, max_iter=2), device_loop=True)


def test_device_loop_must_be_a_bool_or_none():
    x = np.random.default_rng(0).random((40, 4)).astype("float32")
    with pytest.raises(TypeError, match="device_loop.*'yes'"):
        train_dec(x, 2, Recipe(dims=(4, 2), pretrain_epochs=1, max_iter=2), device_loop="yes")


def test_target_refresh_counts_steps_from_the_batch_index():
    refresh = TargetRefresh(np.zeros((4, 2), "float32"))
    refresh._update_interval = 10
    refresh.on_epoch_begin(0)
    refresh.on_train_batch_end(3)  # a stretch of 4 steps, 0..3
    assert refresh.steps_to_refresh() == 6
    refresh.on_train_batch_end(4)  # one more
    assert refresh.steps_to_refresh() == 5
    refresh.on_epoch_begin(1)
    refresh.on_train_batch_end(1)
    assert refresh.steps_to_refresh() == 3
