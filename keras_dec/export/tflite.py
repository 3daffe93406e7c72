"""TFLite / LiteRT conversion of an exported DEC SavedModel."""

from __future__ import annotations

import os
import warnings

import numpy as np
import tensorflow as tf

from keras_dec.utils import atomic

QUANTIZATIONS = ("none", "dynamic", "float16", "int8")
SIGNATURES = ("predict", "embed")


def export_tflite(
    saved_model_dir: str | os.PathLike,
    path: str | os.PathLike,
    quantization: str = "none",
    representative_data=None,
    max_calibration_samples: int = 500,
) -> str:
    """Converts an exported DEC SavedModel to a `.tflite` file (builtin ops only).

    Both signatures, `predict` and `embed`, are kept. Only TFLite builtin ops
    are allowed (no Flex/SELECT_TF_OPS, which pip LiteRT builds cannot run).

    Args:
        saved_model_dir: a version folder written by `export_saved_model`.
        path: the `.tflite` file to write (atomically).
        quantization: `"none"` (float32), `"dynamic"` (int8 weights),
            `"float16"` (float16 weights) or `"int8"` (full integer: weights
            and activations, calibrated on `representative_data`; the model
            still takes and returns float32).
        representative_data: float array of training inputs, needed for
            `"int8"`; up to `max_calibration_samples` rows are used.
        max_calibration_samples: int, rows used for calibration.

    Returns:
        `path`.

    Examples:
        >>> export_tflite("models/dec/1", "dec_int8.tflite", "int8", x)  # doctest: +SKIP
        'dec_int8.tflite'
    """
    if quantization not in QUANTIZATIONS:
        raise ValueError(
            f"`quantization` must be one of {QUANTIZATIONS}. "
            f"Received: quantization={quantization!r}"
        )
    saved_model_dir = os.fspath(saved_model_dir)
    if not os.path.isfile(os.path.join(saved_model_dir, "saved_model.pb")):
        raise FileNotFoundError(
            f"No SavedModel found. Received: saved_model_dir={saved_model_dir!r}"
        )
    converter = tf.lite.TFLiteConverter.from_saved_model(
        saved_model_dir, signature_keys=list(SIGNATURES)
    )
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantization != "none":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantization == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if quantization == "int8":
        if representative_data is None:
            raise ValueError(
                "`quantization='int8'` needs `representative_data` (a sample of the "
                "training inputs) to calibrate activations. Received: None"
            )
        sample = np.asarray(representative_data, dtype="float32")[:max_calibration_samples]
        if len(sample) == 0:
            raise ValueError("`representative_data` is empty. Received: 0 samples")

        def calibration():
            for row in sample:
                for key in SIGNATURES:
                    yield key, {"features": row[None]}

        converter.representative_dataset = calibration
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    with warnings.catch_warnings():
        # int8 calibration runs TF's own (deprecated) tf.lite.Interpreter
        # internally; inference here uses ai_edge_litert.
        warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
        flatbuffer = converter.convert()
    with atomic.atomic_path(path, suffix=".tflite") as tmp:
        with open(tmp, "wb") as f:
            f.write(flatbuffer)
    return os.fspath(path)
