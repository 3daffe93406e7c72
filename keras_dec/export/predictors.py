"""One `predict` over the three deployable formats: .keras, SavedModel, .tflite."""

from __future__ import annotations

import os

import numpy as np


def _in_batches(run, x, batch_size):
    """Runs a `predict` signature over `x` in batches; returns (ids, soft assignments)."""
    ids, qs = [], []
    for start in range(0, len(x), batch_size):
        out = run(x[start:start + batch_size])
        ids.append(np.asarray(out["cluster_id"]))
        qs.append(np.asarray(out["soft_assignments"]))
    return np.concatenate(ids).astype("int32"), np.concatenate(qs)


class KerasPredictor:
    """Cluster ids and soft assignments from a `.keras` DEC file."""

    def __init__(self, path):
        from keras_dec.backbones.scaling import has_input_scaling
        from keras_dec.models.dec import DEC
        from keras_dec.saving import load_model

        self.model = load_model(path)
        if not isinstance(self.model, DEC):
            raise ValueError(f"{path!r} holds a {type(self.model).__name__}, not a keras_dec.DEC.")
        self.input_shape = tuple(self.model.encoder.input_shape[1:])
        self.scales_input = has_input_scaling(self.model)

    def predict(self, x, batch_size: int = 1024):
        q = np.asarray(self.model.predict(x, batch_size=batch_size, verbose=0))
        return q.argmax(1).astype("int32"), q


class SavedModelPredictor:
    """Runs the `predict` signature of an exported SavedModel (no keras_dec needed)."""

    def __init__(self, path):
        import tensorflow as tf

        from keras_dec.export.saved_model import read_metadata

        self.fn = tf.saved_model.load(path).signatures["predict"]
        self.input_shape = tuple(self.fn.structured_input_signature[1]["features"].shape[1:])
        try:
            self.scales_input = bool(read_metadata(path).get("input_scaling", False))
        except (OSError, ValueError):
            self.scales_input = False  # exported by hand, without keras-dec's metadata

    def predict(self, x, batch_size: int = 1024):
        import tensorflow as tf

        return _in_batches(lambda b: self.fn(features=tf.constant(b)), x, batch_size)


def tflite_manifest(path: str | os.PathLike) -> dict:
    """The manifest `export_for_serving` wrote beside a `.tflite` file, or {} without one.

    `<name>-v<version>-<mode>.tflite` has its manifest in `<name>-v<version>.json`.

    Examples:
        >>> tflite_manifest("no/such/dec-v1-int8.tflite")
        {}
    """
    import json
    import re

    path = os.fspath(path)
    match = re.fullmatch(r"(.+)-v(\d+)-[a-z0-9]+\.tflite", os.path.basename(path))
    if match is None:
        return {}
    manifest = os.path.join(os.path.dirname(path), f"{match[1]}-v{match[2]}.json")
    if not os.path.isfile(manifest):
        return {}
    try:
        with open(manifest, encoding="utf-8") as f:
            info = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(f"The TFLite manifest {manifest!r} is unreadable ({e}).") from None
    return info if isinstance(info, dict) else {}


class TFLitePredictor:
    """Runs the `predict` signature of a `.tflite` file with LiteRT.

    Whether the model scales raw features itself (`scales_input`) comes
    from the manifest `export_for_serving` writes beside the file; a file
    without one is taken to need scaled input.
    """

    def __init__(self, path):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError(
                "Running .tflite files needs LiteRT: pip install 'keras-dec[litert]' "
                "(or pip install ai-edge-litert)"
            ) from None
        self.interpreter = Interpreter(model_path=os.fspath(path))
        self.runner = self.interpreter.get_signature_runner("predict")
        self.input_shape = tuple(self.runner.get_input_details()["features"]["shape"][1:])
        self.scales_input = bool(tflite_manifest(path).get("input_scaling", False))

    def predict(self, x, batch_size: int = 1024):
        return _in_batches(lambda b: self.runner(features=np.ascontiguousarray(b)), x,
                           batch_size)


def trained_input_shape(model_path: str | os.PathLike) -> list[int] | None:
    """The per-sample shape a model was trained on, or None where unknown.

    From the run's `metrics.json` beside a `.keras` file, the SavedModel's
    metadata, or a `.tflite` file's manifest.

    Examples:
        >>> trained_input_shape("no/such/model.keras") is None
        True
    """
    path = os.fspath(model_path)
    if os.path.isdir(path):
        from keras_dec.export.saved_model import read_metadata

        try:
            return read_metadata(path).get("training", {}).get("input_shape")
        except (OSError, ValueError):
            return None
    if path.endswith(".keras"):
        from keras_dec.pipeline.run_folder import metrics_beside

        return metrics_beside(path).get("input_shape")
    if path.endswith(".tflite"):
        return tflite_manifest(path).get("training", {}).get("input_shape")
    return None


def load_predictor(path: str | os.PathLike):
    """A predictor for a `.keras` file, a SavedModel folder or a `.tflite` file.

    Its `predict(x)` returns `(cluster_ids int32 [n], soft_assignments float32 [n, K])`.

    Examples:
        >>> ids, q = load_predictor("export/models/dec/1").predict(x)  # doctest: +SKIP
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        if not os.path.isfile(os.path.join(path, "saved_model.pb")):
            raise FileNotFoundError(
                f"{path!r} is a folder without saved_model.pb (pass the version folder, "
                "e.g. export/models/dec/1)."
            )
        return SavedModelPredictor(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Model not found. Received: model={path!r}")
    if path.endswith(".keras"):
        return KerasPredictor(path)
    if path.endswith(".tflite"):
        return TFLitePredictor(path)
    raise ValueError(
        "`model` must be a .keras file, a SavedModel folder or a .tflite file. "
        f"Received: model={path!r}"
    )
