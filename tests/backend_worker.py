"""Trains one small seeded DEC model on the backend in $KERAS_BACKEND and saves the result.

Run by tests/test_backends.py in a subprocess per backend (Keras picks its
backend once per process):

    KERAS_BACKEND=jax python tests/backend_worker.py OUT_DIR [--no-tensorflow]

Every initial value comes from NumPy (weights, centres' k-means seed, sample
order), so the three backends start from the same numbers and differ only in
their kernels. Writes OUT_DIR/result.npz (weights after pretraining and after
DEC, centres, Q, labels, counters) and OUT_DIR/model.keras.
"""

import os
import sys

if "--no-tensorflow" in sys.argv:
    sys.modules["tensorflow"] = None  # `import tensorflow` raises ImportError

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_dec  # noqa: E402
from keras_dec.datasets import load_digits  # noqa: E402

N_SAMPLES, DIMS, PRETRAIN_EPOCHS, DEC_EPOCHS = 400, (32, 16, 6), 3, 4


def main(out):
    x = load_digits()[0][:N_SAMPLES]
    autoencoder, encoder = keras_dec.build_autoencoder(x.shape[1], dims=DIMS)
    rng = np.random.default_rng(0)
    autoencoder.set_weights([rng.normal(0, 0.2, w.shape).astype("float32")
                             for w in autoencoder.get_weights()])
    autoencoder.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss="mse")
    autoencoder.fit(x, x, batch_size=64, epochs=PRETRAIN_EPOCHS, shuffle=False, verbose=0)
    pretrained = [w.copy() for w in autoencoder.get_weights()]

    dec = keras_dec.DEC(encoder, n_clusters=10, update_interval=5, tol=0.0)
    dec.initialize_centers(x, seed=0)
    dec.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9))
    history = dec.fit(x, batch_size=64, epochs=DEC_EPOCHS, shuffle=False, verbose=0)
    q = dec.predict(x, verbose=0)
    dec.save(os.path.join(out, "model.keras"))
    np.savez(
        os.path.join(out, "result.npz"),
        x=x,
        q=q,
        labels=dec.predict_clusters(x),
        initial_labels=dec.initial_labels_,
        centers=dec.cluster_centers_,
        steps=dec.n_iter_,
        refreshes=int(dec.target_refreshes.numpy()),
        loss=np.asarray(history.history["loss"]),
        tensorflow_imported=isinstance(sys.modules.get("tensorflow"), type(sys)),
        **{f"pretrained_{i}": w for i, w in enumerate(pretrained)},
        **{f"encoder_{i}": w for i, w in enumerate(dec.encoder.get_weights())},
    )


if __name__ == "__main__":
    main(sys.argv[1])
