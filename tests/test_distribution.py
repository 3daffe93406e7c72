"""One seeded DEC trained on one device and on two gives the same centres and clusters.

TensorFlow: `tf.distribute.MirroredStrategy` over the two logical CPU devices
conftest.py makes. JAX: `keras.distribution.DataParallel` over two host
devices (`XLA_FLAGS=--xla_force_host_platform_device_count=2`, which must be
set before JAX starts, hence a subprocess). The loss is scaled by the global
batch and the refresh sums f_j over the whole data set, so the two runs do
the same arithmetic up to the order of the cross-device sums: 1e-5 relative.
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from conftest import BACKEND, small_encoder, tensorflow_only

from keras_dec import DEC

TOLERANCE = 1e-5


def _seeded_dec(x):
    dec = DEC(small_encoder(), n_clusters=3, update_interval=4, tol=0.0)
    dec.set_centers(np.random.default_rng(1).normal(size=(3, 3)))
    dec.compile(jit_compile=False)
    return dec


@tensorflow_only
def test_mirrored_strategy_matches_one_device(blobs):
    import tensorflow as tf

    x, _ = blobs
    cpus = tf.config.list_logical_devices("CPU")
    if len(cpus) < 2:
        pytest.skip("needs two logical CPU devices (configured at process start)")
    one = _seeded_dec(x)
    one.fit(x, batch_size=32, epochs=3, shuffle=False, verbose=0)
    keras.backend.clear_session()
    strategy = tf.distribute.MirroredStrategy([d.name for d in cpus[:2]])
    with strategy.scope():
        two = _seeded_dec(x)
    two.fit(x, batch_size=32, epochs=3, shuffle=False, verbose=0)
    assert two.n_iter_ == one.n_iter_ == 12
    scale = np.max(np.abs(one.cluster_centers_))
    assert np.max(np.abs(one.cluster_centers_ - two.cluster_centers_)) <= TOLERANCE * scale
    np.testing.assert_array_equal(one.predict_clusters(x), two.predict_clusters(x))
    np.testing.assert_allclose(np.asarray(two.cluster_frequencies),
                               np.asarray(one.cluster_frequencies), rtol=TOLERANCE)


@pytest.mark.skipif(BACKEND != "jax", reason="keras.distribution.DataParallel is JAX's")
def test_data_parallel_on_two_jax_devices_matches_one_device():
    worker = os.path.join(os.path.dirname(__file__), "distribution_worker.py")
    env = {**os.environ, "KERAS_BACKEND": "jax",
           "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    done = subprocess.run([sys.executable, worker], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["devices"] == 2 and result["variable_devices"] == [1, 2]
    assert result["steps"] == [12, 12] and result["labels_equal"]
    assert result["centres_max_diff"] <= TOLERANCE
    np.testing.assert_allclose(*result["frequencies"], rtol=TOLERANCE)
    # DeviceLoop runs on one device: under a distribution train_dec goes through fit.
    assert result["device_loop_default"] is False
    assert "a keras.distribution is set (DataParallel)" in result["device_loop_refused"]
