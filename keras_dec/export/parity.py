"""Parity checks: the deployed formats compute the same clusters as the Keras model."""

from __future__ import annotations

import numpy as np

from keras_dec.errors import ParityError  # noqa: F401 - part of keras_dec.export's API

# Float32 formats must match to this absolute tolerance with identical ids;
# quantised formats must agree on at least this fraction of cluster ids.
FLOAT32_ATOL = 1e-5
MIN_AGREEMENT = {"dynamic": 0.995, "float16": 0.995, "int8": 0.99}


def check_parity(
    model,
    x,
    saved_model_dir=None,
    tflite_files: dict | None = None,
    raise_on_failure: bool = True,
) -> dict:
    """Runs each exported format on `x` and compares it with the Keras model.

    Thresholds: the SavedModel and float32 TFLite (`"none"`) must give soft
    assignments within 1e-5 and identical cluster ids; `"dynamic"` and
    `"float16"` must agree on >= 99.5% of ids, `"int8"` on >= 99%.

    Args:
        model: the trained `keras_dec.DEC`.
        x: float array, the sample to compare on (e.g. the training data).
        saved_model_dir: a version folder from `export_saved_model`, or None.
        tflite_files: `{quantization: path}` from `export_tflite`.
        raise_on_failure: raise `ParityError` when any format misses.

    Returns:
        `{format: {"max_abs_diff", "agreement", "threshold", "passed"}}`.

    Examples:
        >>> report = check_parity(dec, x, "models/dec/1", {"int8": "dec.tflite"})  # doctest: +SKIP
    """
    from keras_dec.export.predictors import SavedModelPredictor, TFLitePredictor

    x = np.asarray(x, dtype="float32")
    q_ref = np.asarray(model.predict(x, verbose=0))
    ids_ref = q_ref.argmax(1)
    candidates = []
    if saved_model_dir is not None:
        candidates.append(("saved_model", "none", SavedModelPredictor(saved_model_dir)))
    for mode, path in (tflite_files or {}).items():
        candidates.append((f"tflite_{mode}", mode, TFLitePredictor(path)))
    report = {}
    for name, mode, predictor in candidates:
        ids, q = predictor.predict(x)
        agreement = float(np.mean(ids == ids_ref))
        diff = float(np.max(np.abs(q - q_ref)))
        if mode == "none":
            passed = diff <= FLOAT32_ATOL and agreement == 1.0
            threshold = f"max |dq| <= {FLOAT32_ATOL} and identical ids"
        else:
            passed = agreement >= MIN_AGREEMENT[mode]
            threshold = f"agreement >= {MIN_AGREEMENT[mode]}"
        report[name] = {
            "max_abs_diff": diff,
            "agreement": agreement,
            "threshold": threshold,
            "passed": bool(passed),
            "n_samples": int(len(x)),
        }
    failed = {k: v for k, v in report.items() if not v["passed"]}
    if failed and raise_on_failure:
        lines = [
            f"{k}: agreement {v['agreement']:.4f}, max |dq| {v['max_abs_diff']:.2e} "
            f"(needs {v['threshold']})"
            for k, v in failed.items()
        ]
        raise ParityError("Exported model(s) failed the parity check: " + "; ".join(lines))
    return report
