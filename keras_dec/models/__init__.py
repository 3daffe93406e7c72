from keras_dec.models.dec import DEC
from keras_dec.models.idec import IDEC

__all__ = ["DEC", "IDEC"]
