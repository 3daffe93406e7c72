"""A Beam `ModelHandler` for the SavedModel that `keras-dec export` writes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from apache_beam.ml.inference.base import ModelHandler, PredictionResult


class SavedModelHandler(ModelHandler[np.ndarray, PredictionResult, Any]):
    """Runs a keras-dec SavedModel's `predict` (and `embed`) signature on batches of rows.

    Beam's own `TFModelHandlerNumpy` loads with `tf.keras.models.load_model`,
    which Keras 3 refuses for SavedModels; this handler loads with
    `tf.saved_model.load`, the way TF Serving does, and needs neither Keras
    nor keras-dec on the workers (only TensorFlow and NumPy).

    Each row's inference is a dict: `cluster_id` (int), `confidence` (the
    largest soft assignment, float) and, with `embedding=True`, `embedding`
    (a float32 array).

    Args:
        model_path: str, a SavedModel version folder (local or on a file
            system TensorFlow reads, such as `gs://`).
        embedding: bool, also run the `embed` signature.
        min_batch_size, max_batch_size: int, Beam's `BatchElements` bounds.

    Examples:
        >>> import apache_beam as beam
        >>> from apache_beam.ml.inference.base import RunInference
        >>> handler = SavedModelHandler("export/models/dec/1")
        >>> # rows | RunInference(handler)  ->  PredictionResult(row, {"cluster_id": ...})
    """

    def __init__(
        self,
        model_path: str,
        embedding: bool = False,
        min_batch_size: int = 64,
        max_batch_size: int = 4096,
    ):
        super().__init__(min_batch_size=min_batch_size, max_batch_size=max_batch_size)
        self.model_path = model_path
        self.embedding = embedding

    def load_model(self):
        import tensorflow as tf

        return tf.saved_model.load(self.model_path)

    def run_inference(
        self,
        batch: Sequence[np.ndarray],
        model,
        inference_args: dict[str, Any] | None = None,
    ) -> Iterable[PredictionResult]:
        import tensorflow as tf

        features = tf.constant(np.stack(batch).astype("float32", copy=False))
        out = model.signatures["predict"](features=features)
        ids = out["cluster_id"].numpy()
        confidence = out["soft_assignments"].numpy().max(axis=1)
        rows = [{"cluster_id": int(i), "confidence": float(c)}
                for i, c in zip(ids, confidence, strict=True)]
        if self.embedding:
            z = model.signatures["embed"](features=features)["embedding"].numpy()
            for row, e in zip(rows, z, strict=True):
                row["embedding"] = e
        return [PredictionResult(x, row, self.model_path)
                for x, row in zip(batch, rows, strict=True)]

    def get_num_bytes(self, batch: Sequence[np.ndarray]) -> int:
        return sum(x.nbytes for x in batch)

    def get_metrics_namespace(self) -> str:
        return "keras_dec"
