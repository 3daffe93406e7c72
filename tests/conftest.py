import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import importlib.util  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

BACKEND = keras.backend.backend()
# Commands the tests start as subprocesses train on the suite's backend, not on
# the one `keras-dec --backend auto` would pick.
os.environ.setdefault("KERAS_BACKEND", BACKEND)

if BACKEND == "tensorflow":
    import tensorflow as tf

    # Two logical CPU devices, so tf.distribute.MirroredStrategy can be tested here.
    tf.config.set_logical_device_configuration(
        tf.config.list_physical_devices("CPU")[0],
        [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()],
    )

# Tests of TensorFlow-only features (export, tf.data input, tf.distribute) are
# skipped when the suite runs on the JAX or PyTorch backend.
tensorflow_only = pytest.mark.skipif(
    BACKEND != "tensorflow", reason="TensorFlow backend only (export, tf.data, tf.distribute)"
)

# tf.data input works on every backend, as long as TensorFlow is installed.
needs_tensorflow = pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None, reason="TensorFlow is not installed"
)


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


def checkpoint_file(output, stem):
    """The `stem` checkpoint ("autoencoder" or "dec") that `output`'s state names."""
    import json

    folder = os.path.join(output, "checkpoints")
    with open(os.path.join(folder, "state.json")) as f:
        return os.path.join(folder, json.load(f)["files"][stem])


def small_encoder(input_dim=6, embedding_dim=3, seed=0):
    inputs = keras.Input((input_dim,))
    h = keras.layers.Dense(8, activation="relu", kernel_initializer=keras.initializers.GlorotUniform(seed))(inputs)
    z = keras.layers.Dense(embedding_dim, kernel_initializer=keras.initializers.GlorotUniform(seed + 1))(h)
    return keras.Model(inputs, z, name="small_encoder")
