"""Deployment: SavedModel for TF Serving, TFLite/LiteRT for devices, parity checks."""

from keras_dec.export.parity import ParityError, check_parity
from keras_dec.export.predictors import load_predictor
from keras_dec.export.saved_model import export_saved_model, next_version, read_metadata
from keras_dec.export.serving_bundle import export_for_serving
from keras_dec.export.tflite import QUANTIZATIONS, export_tflite

__all__ = [
    "QUANTIZATIONS",
    "ParityError",
    "check_parity",
    "export_for_serving",
    "export_saved_model",
    "read_metadata",
    "export_tflite",
    "load_predictor",
    "next_version",
]
