"""The k-means baseline on the input features (`baseline_kmeans=True`)."""

from __future__ import annotations

from sklearn.cluster import KMeans

from keras_dec.metrics import evaluate_clustering
from keras_dec.pipeline.stages.base import Run, Stage


class KMeansBaseline(Stage):
    """k-means (the recipe's `n_init` restarts) on the scaled input features."""

    name = "kmeans_raw"

    def run(self, run: Run) -> None:
        labels = KMeans(run.n_clusters, n_init=run.recipe.n_init,
                        random_state=run.seed).fit_predict(run.data.points_fit)
        run.labels[self.name] = labels
        if run.data.y is not None:
            run.report[self.name] = evaluate_clustering(run.data.y, labels)
