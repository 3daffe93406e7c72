"""Deployment: SavedModel for TF Serving, TFLite/LiteRT for devices, parity checks.

Names are imported on first use, so that `keras_dec.export.predictors` (which
also runs `.keras` files) works on the JAX and PyTorch backends without
TensorFlow; the SavedModel and TFLite functions need it.
"""

import importlib

_WHERE = {
    "QUANTIZATIONS": "tflite",
    "ParityError": "parity",
    "check_parity": "parity",
    "export_for_serving": "serving_bundle",
    "export_saved_model": "saved_model",
    "export_tflite": "tflite",
    "load_predictor": "predictors",
    "next_version": "saved_model",
    "read_metadata": "saved_model",
}

__all__ = sorted(_WHERE)


def __getattr__(name):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
