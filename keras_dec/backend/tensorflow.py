"""DEC's training step on the TensorFlow backend (`tf.GradientTape`)."""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_dec.backend.tensorflow_loop import DeviceLoop  # noqa: F401


def device_loop_by_default() -> bool:
    """Whether `train_dec(device_loop=None)` trains through `DeviceLoop`: yes, but not
    inside a `tf.distribute` strategy, whose replicas `fit` runs."""
    return not tf.distribute.has_strategy()


class DECTrainer:
    """`train_step`/`test_step` for `DEC` on TensorFlow, including `tf.distribute`."""

    def train_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        # Gradients are summed over replicas: the loss is scaled by the global batch.
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        with tf.GradientTape() as tape:
            loss, per_sample = self.dec_loss(x, training=True, replicas=replicas)
        variables = self.trainable_variables
        self.optimizer.apply(tape.gradient(loss, variables), variables)
        return self.dec_update_state(per_sample)

    def test_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        _, per_sample = self.dec_loss(x, training=False)
        return self.dec_update_state(per_sample, count_step=False)


def compile_function(model, fn):
    """`fn(*args)` traced once per input signature, reading the model's live weights."""
    del model  # tf.function reads the variables themselves.
    return tf.function(fn, reduce_retracing=True)


def fit_inputs(x, batch_size, pairs=False) -> dict:
    """`fit` arguments feeding `x` (and `x` as targets, with `pairs`) in order, in batches.

    A plain `tf.data` pipeline: Keras' array adapter would add a per-epoch
    map op (and log a NodeDef warning for each `fit` call).
    """
    data = tf.data.Dataset.from_tensor_slices((x, x) if pairs else x)
    return {"x": data.batch(batch_size).prefetch(tf.data.AUTOTUNE)}


def predict_inputs(x, batch_size) -> dict:
    """`predict` arguments feeding `x` in order: a plain `tf.data` pipeline, as `fit_inputs`.

    Keras' array adapter maps over its dataset, and TensorFlow 2.21 logs an
    `E0000 ... use_unbounded_threadpool` line for that map op each time.
    """
    return {"x": tf.data.Dataset.from_tensor_slices(x).batch(batch_size)}


def device_description() -> str:
    """The device training runs on, e.g. `"GPU:0 (NVIDIA H200)"` or `"CPU"`, and the version."""
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        device = f"GPU ({details.get('device_name', gpus[0].name)})"
    else:
        device = "CPU"
    return f"{device}, tensorflow {tf.__version__}"


def enable_determinism() -> None:
    """Deterministic TensorFlow kernels (same results run to run on one machine)."""
    tf.config.experimental.enable_op_determinism()
