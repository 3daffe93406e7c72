"""The streaming DEC loop equals a plain loop that materialises P, step for step."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import small_encoder

from keras_dec import DEC


def reference_dec(encoder, centers, x, batch_size, update_interval, tol, max_steps, alpha=1.0):
    """The paper's loop, written plainly: P as an N x K array, labels kept per point."""
    encoder = keras.models.clone_model(encoder)
    encoder.set_weights(encoder_weights_of[id(encoder_source[0])])
    mu = tf.Variable(centers)
    optimizer = keras.optimizers.SGD(0.01, momentum=0.9)
    variables = encoder.trainable_variables + [mu]
    optimizer.build(variables)

    def q_of(batch):
        z = encoder(batch)
        d2 = tf.reduce_sum((z[:, None, :] - mu[None]) ** 2, axis=-1)
        num = (1.0 + d2 / alpha) ** (-(alpha + 1.0) / 2.0)
        return num / tf.reduce_sum(num, axis=1, keepdims=True)

    n = len(x)
    last_labels = None
    deltas = []
    step = 0
    while step < max_steps:
        for start in range(0, n, batch_size):
            if step % update_interval == 0:
                q_all = q_of(x).numpy().astype("float64")
                weight = q_all**2 / q_all.sum(0)
                p_all = (weight / weight.sum(1, keepdims=True)).astype("float32")
                labels = q_all.argmax(1)
                if last_labels is not None:
                    delta = float(np.mean(labels != last_labels))
                    deltas.append(delta)
                    if delta < tol:
                        return encoder, mu, step, deltas
                last_labels = labels
            if step >= max_steps:
                break
            xb, pb = x[start:start + batch_size], p_all[start:start + batch_size]
            with tf.GradientTape() as tape:
                q = q_of(xb)
                loss = tf.reduce_mean(tf.reduce_sum(pb * tf.math.log(pb / q), axis=1))
            optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
            step += 1
    return encoder, mu, step, deltas


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


@pytest.mark.parametrize("as_dataset", [False, True])
def test_streaming_refresh_matches_materialised_reference(blobs, as_dataset):
    x, encoder, centers = _setup(blobs)
    ref_encoder, ref_mu, ref_steps, ref_deltas = reference_dec(
        encoder, centers, x, batch_size=32, update_interval=5, tol=0.0, max_steps=20
    )
    dec = DEC(encoder, n_clusters=3, update_interval=5, tol=0.0, refresh_batch_size=50)
    dec.set_centers(centers)
    dec.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9), jit_compile=False)
    data = tf.data.Dataset.from_tensor_slices(x).batch(32) if as_dataset else x
    kwargs = {} if as_dataset else {"batch_size": 32}
    kwargs["shuffle"] = False
    # 4 batches per epoch (32, 32, 32, 24): 5 epochs = 20 steps.
    history = dec.fit(data, epochs=5, verbose=0, **kwargs)

    assert dec.n_iter_ == ref_steps == 20
    for got, want in zip(dec.encoder.get_weights(), ref_encoder.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(dec.cluster_centers_, ref_mu.numpy(), rtol=1e-4, atol=1e-6)
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
