"""Stage 4: the trained model's clusters, scored with labels and without."""

from __future__ import annotations

import numpy as np

from keras_dec.metrics import evaluate_clustering, label_free_indices
from keras_dec.models.dec import DEC
from keras_dec.pipeline.stages.base import Run, Stage


class Evaluate(Stage):
    """Records DEC's iterations and convergence, how many clusters it left empty,
    its ACC/NMI/ARI (with labels) and the label-free indices of every method's clusters.

    Without labels, each method's clusters are scored in two spaces: DEC's
    embedding (where DEC's own clusters are favoured) and the input
    features (where k-means on them is favoured).
    """

    name = "evaluate"

    def run(self, run: Run) -> None:
        dec, data, report = run.model("dec", DEC), run.data, run.report
        report["dec_iterations"] = dec.n_iter_
        report["converged"] = dec.converged_
        report["target_refreshes"] = int(dec.target_refreshes.numpy())
        report["final_label_change"] = float(dec.label_change.numpy())
        run.labels["dec"] = dec.predict_clusters(data.points, check_input=False)
        # DEC's self-training can pull every point into a few clusters (seen with the
        # manifold stage on 2-D blobs); say so rather than ship it silently.
        report["empty_clusters"] = run.n_clusters - int(np.unique(run.labels["dec"]).size)
        if data.y is not None:
            report["dec"] = evaluate_clustering(data.y, run.labels["dec"])
        spaces = {"embedding": dec.embed(data.points, check_input=False),
                  "features": data.points_fit}
        report["label_free"] = {
            space: {name: label_free_indices(points, labels, run.seed or 0)
                    for name, labels in run.labels.items()}
            for space, points in spaces.items()
        }
