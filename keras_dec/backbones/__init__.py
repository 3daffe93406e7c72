from keras_dec.backbones.autoencoder import build_autoencoder
from keras_dec.backbones.conv_autoencoder import build_conv_autoencoder
from keras_dec.backbones.pretraining import pretrain_autoencoder

__all__ = ["build_autoencoder", "build_conv_autoencoder", "pretrain_autoencoder"]
