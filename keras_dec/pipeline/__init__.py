"""The end-to-end DEC pipeline behind `keras-dec train`: named stages, resumable after a kill.

- `data`: the one door data enters by (`prepare_training_data` -> `TrainingData`);
- `run_folder`: the run folder's files, checkpoints and their readers;
- `builders`: recipe -> models; `seeding`: every seeded draw;
- `epochs`: one epoch through `fit` or the JAX device loop;
- `stages`: pretraining, the manifold, k-means initialisation, DEC, evaluation;
- `single_run`: one run, the stages in sequence; `ensemble`: N runs, one kept;
- `train`: `train_dec`, the checks and then one of those two;
- `summary`: the report as text.
"""

from keras_dec.pipeline.callbacks import NonFiniteLossError
from keras_dec.pipeline.data import (
    KMEANS_MAX_SAMPLES,
    TrainingData,
    prepare_training_data,
)
from keras_dec.pipeline.run_folder import Checkpoints, read_metrics
from keras_dec.pipeline.summary import SILHOUETTE_MARGIN, format_summary, label_free_lines
from keras_dec.pipeline.train import train_dec

__all__ = [
    "KMEANS_MAX_SAMPLES",
    "SILHOUETTE_MARGIN",
    "Checkpoints",
    "NonFiniteLossError",
    "TrainingData",
    "format_summary",
    "label_free_lines",
    "prepare_training_data",
    "read_metrics",
    "train_dec",
]
