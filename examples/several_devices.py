"""DEC trained on two devices with each backend's own distribution API, on this machine.

    python examples/several_devices.py                     # TensorFlow: MirroredStrategy
    KERAS_BACKEND=jax python examples/several_devices.py   # JAX: keras.distribution.DataParallel

Without accelerators, the two devices are made from the CPU: two logical
TensorFlow CPU devices, or two XLA host devices for JAX (the flag must be set
before JAX starts, which this script does). On a machine with two GPUs, drop
those lines and the same code uses the GPUs. The autoencoder is pretrained
and k-means-initialised on one device; DEC then trains on both, with the loss
scaled by the global batch and the target refresh summing over all the data.

Flags: --pretrain-epochs (default 50) and --epochs (DEC epochs, default 20).
"""

import argparse
import os

if os.environ.get("KERAS_BACKEND") == "jax":
    os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")

import keras  # noqa: E402

import keras_dec  # noqa: E402
from keras_dec.datasets import load_digits  # noqa: E402


def distribute():
    """Makes two devices; returns a function giving the context models are built in."""
    import contextlib

    if keras.backend.backend() == "jax":
        import jax

        devices = jax.devices()[:2]
        # Before any variable exists (keras#18681).
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
        return contextlib.nullcontext, len(devices)
    import tensorflow as tf

    tf.config.set_logical_device_configuration(
        tf.config.list_physical_devices("CPU")[0],
        [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
    cpus = [d.name for d in tf.config.list_logical_devices("CPU")[:2]]
    return tf.distribute.MirroredStrategy(cpus).scope, len(cpus)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pretrain-epochs", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args(argv)

    scope, n_devices = distribute()
    keras.utils.set_random_seed(0)
    x, y = load_digits()
    # JAX's DataParallel splits every batch evenly over the devices, the last
    # partial one too: keep a multiple of the device count (1,796 of 1,797).
    keep = len(x) - len(x) % n_devices
    x, y = x[:keep], y[:keep]
    with scope():
        autoencoder, encoder = keras_dec.build_autoencoder(x.shape[1], dims=(500, 500, 2000, 10),
                                                           seed=0)
        autoencoder.compile(optimizer=keras.optimizers.SGD(1.0, momentum=0.9), loss="mse")
    autoencoder.fit(x, x, batch_size=256, epochs=args.pretrain_epochs, verbose=0)
    with scope():
        dec = keras_dec.DEC(encoder, n_clusters=10, update_interval=30)
        dec.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9))
    dec.initialize_centers(x, seed=0)
    dec.fit(x, batch_size=256, epochs=args.epochs, verbose=0)
    scores = keras_dec.evaluate_clustering(y, dec.predict_clusters(x))
    print(f"{keras.backend.backend()} on {n_devices} devices: {dec.n_iter_} DEC steps, "
          f"ACC {scores['acc']:.3f}, NMI {scores['nmi']:.3f}")


if __name__ == "__main__":
    main()
