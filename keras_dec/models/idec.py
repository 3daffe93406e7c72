"""IDEC: DEC that keeps training the decoder, so the embedding keeps its local structure."""

from __future__ import annotations

import keras
from keras import ops

from keras_dec.backbones.scaling import input_scaling_layer
from keras_dec.models.dec import DEC
from keras_dec.utils.validation import check_positive_float


@keras.saving.register_keras_serializable(package="keras_dec")
class IDEC(DEC):
    """Improved Deep Embedded Clustering: DEC's loss plus the autoencoder's reconstruction.

    Each step minimises, per sample and averaged over the batch,

        gamma * KL(p_i || q_i) + mean_d (x_id - decoder(encoder(x_i))_d)^2

    (Guo et al. 2017, Eq. 1, and their Keras code: `loss_weights=[gamma, 1]`
    on `kld` and `mse`). The reconstruction keeps the decoder in training,
    which keeps the embedding from distorting into whatever the clustering
    loss prefers. P, its refresh, `tol` and everything else are DEC's. The
    step is DEC's own on every backend; only the per-sample loss differs.

    Serving needs only the encoder and the centres: `export_saved_model`
    and TFLite export an IDEC exactly as a DEC (the decoder is not in the
    exported graphs). `.keras` files keep the decoder, so training resumes.

    Args:
        encoder: `keras.Model`, inputs -> embeddings, as for `DEC`. An encoder
            that starts with `train_dec`'s input scaling layer reconstructs
            the scaled features.
        decoder: `keras.Model`, embeddings -> reconstructed (scaled) inputs,
            e.g. `decoder_of(autoencoder)` for `build_autoencoder`'s model.
        n_clusters: int >= 1.
        gamma: float > 0, the weight of the clustering loss (paper: 0.1).
        **kwargs: `DEC`'s arguments (`alpha`, `update_interval`, `tol`, ...).

    Examples:
        >>> import numpy as np, keras
        >>> from keras_dec import IDEC, build_autoencoder, decoder_of
        >>> x = np.random.default_rng(0).random((64, 8)).astype("float32")
        >>> autoencoder, encoder = build_autoencoder(8, dims=(16, 4))
        >>> idec = IDEC(encoder, decoder_of(autoencoder), n_clusters=3, update_interval=4)
        >>> _ = idec.initialize_centers(x, seed=0)
        >>> idec.compile()
        >>> history = idec.fit(x, batch_size=16, epochs=1, verbose=0)
        >>> idec.predict_clusters(x).shape
        (64,)

    Reference:
        Guo, Gao, Liu & Yin, "Improved Deep Embedded Clustering with Local
        Structure Preservation", IJCAI 2017.
    """

    def __init__(self, encoder: keras.Model, decoder: keras.Model, n_clusters: int,
                 gamma: float = 0.1, **kwargs):
        super().__init__(encoder, n_clusters, **kwargs)
        if not isinstance(decoder, keras.Model):
            raise TypeError(
                "`decoder` must be a keras.Model mapping embeddings to reconstructions. "
                f"Received: decoder of type {type(decoder).__name__}"
            )
        embedding, inputs = encoder.output_shape[1:], encoder.input_shape[1:]
        if decoder.input_shape[1:] != embedding or decoder.output_shape[1:] != inputs:
            raise ValueError(
                f"`decoder` must map embeddings {(None, *embedding)} to inputs "
                f"{(None, *inputs)}. Received: decoder from {decoder.input_shape} to "
                f"{decoder.output_shape}"
            )
        self.decoder = decoder
        self.gamma = check_positive_float("gamma", gamma)
        self._scaling = input_scaling_layer(encoder)

    def sample_loss(self, x, z, kl, training=False):
        target = x if self._scaling is None else self._scaling(x)
        reconstruction = self.decoder(z, training=training)
        squared = ops.square(ops.cast(target, reconstruction.dtype) - reconstruction)
        mse = ops.mean(ops.reshape(squared, (ops.shape(squared)[0], -1)), axis=-1)
        return self.gamma * kl + mse

    def get_config(self):
        return {
            **super().get_config(),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "gamma": self.gamma,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["decoder"] = keras.saving.deserialize_keras_object(config["decoder"])
        return super().from_config(config)
