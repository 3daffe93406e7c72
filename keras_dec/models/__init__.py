from keras_dec.models.dec import DEC

__all__ = ["DEC"]
