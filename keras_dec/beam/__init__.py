"""Batch cluster assignment on Apache Beam (`pip install 'keras-dec[beam]'`)."""

try:
    import apache_beam  # noqa: F401
except ImportError:  # pragma: no cover - depends on the environment
    raise ImportError(
        "Batch assignment on Beam needs Apache Beam: pip install 'keras-dec[beam]'"
    ) from None

from keras_dec.beam.assign import assign_clusters, build_assign_pipeline
from keras_dec.beam.saved_model_handler import SavedModelHandler

__all__ = ["SavedModelHandler", "assign_clusters", "build_assign_pipeline"]
