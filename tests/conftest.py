import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

# Two logical CPU devices, so tf.distribute.MirroredStrategy can be tested here.
tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0],
    [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()],
)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session()


@pytest.fixture
def blobs():
    """Three well separated Gaussian blobs in 6-D, 120 points, with labels."""
    rng = np.random.default_rng(0)
    centers = rng.normal(0, 4, size=(3, 6))
    y = np.repeat(np.arange(3), 40)
    x = centers[y] + rng.normal(0, 0.5, size=(120, 6))
    return x.astype("float32"), y


def small_encoder(input_dim=6, embedding_dim=3, seed=0):
    inputs = keras.Input((input_dim,))
    h = keras.layers.Dense(8, activation="relu", kernel_initializer=keras.initializers.GlorotUniform(seed))(inputs)
    z = keras.layers.Dense(embedding_dim, kernel_initializer=keras.initializers.GlorotUniform(seed + 1))(h)
    return keras.Model(inputs, z, name="small_encoder")
