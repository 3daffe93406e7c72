"""The stages of `train_dec`, each a named, resumable, timed step (`Stage`)."""

from keras_dec.pipeline.stages.base import Run, Stage, run_stages
from keras_dec.pipeline.stages.baseline import KMeansBaseline
from keras_dec.pipeline.stages.cluster import Cluster
from keras_dec.pipeline.stages.evaluate import Evaluate
from keras_dec.pipeline.stages.initialize import InitializeCenters
from keras_dec.pipeline.stages.manifold import Manifold
from keras_dec.pipeline.stages.pretrain import Pretrain

__all__ = ["Cluster", "Evaluate", "InitializeCenters", "KMeansBaseline", "Manifold", "Pretrain",
           "Run", "Stage", "run_stages"]
