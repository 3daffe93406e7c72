"""The streaming DEC loop equals a plain loop that materialises P, step for step."""

import keras
import numpy as np
import pytest
from conftest import needs_tensorflow, small_encoder
from keras import ops

from keras_dec import DEC


class _LogQ(keras.layers.Layer):
    """log q_ij from the paper's kernel, written out plainly (no shared code with DEC)."""

    def __init__(self, centers, alpha):
        super().__init__()
        self.mu = self.add_weight(shape=centers.shape, initializer=keras.initializers.Constant(centers))
        self.alpha = alpha

    def call(self, z):
        d2 = ops.sum((z[:, None, :] - self.mu[None]) ** 2, axis=-1)
        log_num = -(self.alpha + 1.0) / 2.0 * ops.log(1.0 + d2 / self.alpha)
        return log_num - ops.logsumexp(log_num, axis=1, keepdims=True)


def _kl(p, log_q):
    return ops.sum(p * (ops.log(ops.maximum(p, 1e-30)) - log_q), axis=1)


def reference_dec(encoder, centers, x, batch_size, update_interval, tol, max_steps, alpha=1.0):
    """The paper's loop, written plainly: P as an N x K NumPy array, labels kept per point.

    A plain functional model trained with `train_on_batch` (Keras' own step on
    every backend) against P computed in float64 NumPy.
    """
    encoder = keras.models.clone_model(encoder)
    encoder.set_weights(encoder_weights_of[id(encoder_source[0])])
    inputs = keras.Input(x.shape[1:])
    model = keras.Model(inputs, _LogQ(centers, alpha)(encoder(inputs)))
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9), loss=_kl)

    n = len(x)
    last_labels = None
    deltas = []
    step = 0
    while step < max_steps:
        for start in range(0, n, batch_size):
            if step % update_interval == 0:
                q_all = np.exp(model.predict(x, verbose=0).astype("float64"))
                weight = q_all**2 / q_all.sum(0)
                p_all = (weight / weight.sum(1, keepdims=True)).astype("float32")
                labels = q_all.argmax(1)
                if last_labels is not None:
                    delta = float(np.mean(labels != last_labels))
                    deltas.append(delta)
                    if delta < tol:
                        return encoder, model.layers[-1].mu, step, deltas
                last_labels = labels
            if step >= max_steps:
                break
            model.train_on_batch(x[start:start + batch_size], p_all[start:start + batch_size])
            step += 1
    return encoder, model.layers[-1].mu, step, deltas


encoder_source = [None]
encoder_weights_of = {}


def _setup(blobs):
    x, _ = blobs
    encoder = small_encoder()
    encoder_source[0] = encoder
    encoder_weights_of[id(encoder)] = [w.copy() for w in encoder.get_weights()]
    rng = np.random.default_rng(5)
    centers = rng.normal(size=(3, 3)).astype("float32")
    return x, encoder, centers


@pytest.mark.parametrize("as_dataset", [False, pytest.param(True, marks=needs_tensorflow)])
def test_streaming_refresh_matches_materialised_reference(blobs, as_dataset):
    x, encoder, centers = _setup(blobs)
    ref_encoder, ref_mu, ref_steps, ref_deltas = reference_dec(
        encoder, centers, x, batch_size=32, update_interval=5, tol=0.0, max_steps=20
    )
    dec = DEC(encoder, n_clusters=3, update_interval=5, tol=0.0, refresh_batch_size=50)
    dec.set_centers(centers)
    dec.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9), jit_compile=False)
    if as_dataset:
        import tensorflow as tf

        data = tf.data.Dataset.from_tensor_slices(x).batch(32)
    else:
        data = x
    kwargs = {} if as_dataset else {"batch_size": 32}
    kwargs["shuffle"] = False
    # 4 batches per epoch (32, 32, 32, 24): 5 epochs = 20 steps.
    history = dec.fit(data, epochs=5, verbose=0, **kwargs)

    assert dec.n_iter_ == ref_steps == 20
    for got, want in zip(dec.encoder.get_weights(), ref_encoder.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(dec.cluster_centers_, ops.convert_to_numpy(ref_mu), rtol=1e-4, atol=1e-6)
    # The callback also refreshes after the last step (the reference stops first).
    got_deltas = [r["label_change"] for r in history.refreshes[1:]]
    np.testing.assert_allclose(got_deltas[: len(ref_deltas)], ref_deltas)
    assert len(got_deltas) == len(ref_deltas) + 1
    assert [r["step"] for r in history.refreshes] == [0, 5, 10, 15, 20]


def test_stops_when_label_change_falls_below_tol(blobs):
    x, encoder, centers = _setup(blobs)
    _, _, ref_steps, ref_deltas = reference_dec(
        encoder, centers, x, batch_size=32, update_interval=5, tol=0.05, max_steps=400
    )
    assert ref_deltas[-1] < 0.05 and ref_steps < 400
    dec = DEC(encoder, n_clusters=3, update_interval=5, tol=0.05)
    dec.set_centers(centers)
    dec.compile(jit_compile=False)
    history = dec.fit(x, batch_size=32, epochs=100, shuffle=False, verbose=0)
    assert dec.converged_
    assert dec.n_iter_ == ref_steps
    assert history.refreshes[-1]["label_change"] < 0.05
    assert all(r["label_change"] >= 0.05 for r in history.refreshes[1:-1])
    assert len(history.history["loss"]) < 100  # stopped early


def test_does_not_stop_while_label_change_is_above_tol(blobs):
    x, encoder, centers = _setup(blobs)
    dec = DEC(encoder, n_clusters=3, update_interval=2, tol=0.0)
    dec.set_centers(centers)
    dec.compile(jit_compile=False)
    dec.fit(x, batch_size=32, epochs=3, verbose=0)
    assert not dec.converged_ and dec.n_iter_ == 12
