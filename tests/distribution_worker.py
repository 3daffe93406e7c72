"""Trains one seeded DEC on one device and on two, in one process; prints the differences.

Run by tests/test_distribution.py in a subprocess, because the device count
must be fixed before the backend starts:
    XLA_FLAGS=--xla_force_host_platform_device_count=2 KERAS_BACKEND=jax python distribution_worker.py
"""

import json

import keras
import numpy as np


def train(distribution=None):
    if distribution is not None:
        # Before any variable exists (keras#18681), as Keras' guide says.
        keras.distribution.set_distribution(distribution)
    from keras_dec import DEC

    rng = np.random.default_rng(0)
    centres = rng.normal(0, 4, (3, 6))
    x = (centres[np.repeat(np.arange(3), 40)] + rng.normal(0, 0.5, (120, 6))).astype("float32")
    inputs = keras.Input((6,))
    h = keras.layers.Dense(8, activation="relu",
                           kernel_initializer=keras.initializers.GlorotUniform(0))(inputs)
    z = keras.layers.Dense(3, kernel_initializer=keras.initializers.GlorotUniform(1))(h)
    dec = DEC(keras.Model(inputs, z), n_clusters=3, update_interval=4, tol=0.0)
    dec.set_centers(rng.normal(0, 1, (3, 3)))
    dec.compile()
    dec.fit(x, batch_size=32, epochs=3, shuffle=False, verbose=0)
    placed = len(dec.clustering.centers.value.devices())  # replicated on every device
    return dec.cluster_centers_, dec.predict_clusters(x), dec.n_iter_, [
        float(f) for f in np.asarray(dec.cluster_frequencies)], placed


def main():
    import jax

    devices = jax.devices()
    one = train()
    two = train(keras.distribution.DataParallel(devices=devices))
    from keras_dec.pipeline.epochs import resolve_device_loop

    try:
        resolve_device_loop(True)
        refused = None
    except ValueError as e:
        refused = str(e)
    print(json.dumps({
        "device_loop_default": resolve_device_loop(None),
        "device_loop_refused": refused,
        "devices": len(devices),
        "centres_max_diff": float(np.max(np.abs(one[0] - two[0]))),
        "labels_equal": bool(np.array_equal(one[1], two[1])),
        "steps": [one[2], two[2]],
        "frequencies": [one[3], two[3]],
        "variable_devices": [one[4], two[4]],
    }))


if __name__ == "__main__":
    main()
