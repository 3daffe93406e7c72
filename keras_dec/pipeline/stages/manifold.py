"""Stage 1b: a manifold head on the pretrained embedding (parametric UMAP), before k-means."""

from __future__ import annotations

import numpy as np

from keras_dec.backbones.autoencoder import encoder_of
from keras_dec.manifold import (
    build_manifold_head,
    fit_manifold_head,
    fuzzy_graph,
    head_gain,
    umap_ab,
)
from keras_dec.pipeline.stages.base import Run, Stage


class Manifold(Stage):
    """Trains the manifold head with UMAP's loss on the fuzzy graph of the embedding.

    The graph is built on the embeddings of `data.points`: every row of an
    array; for a `ShardStream`, its k-means sample (recorded in the report
    as `manifold_graph_points`), and so is the head's gain (`head_gain`,
    unless the recipe fixes the encoder's gradient factor). Leaves the head in
    `run.models["manifold_head"]` (checkpointed); the next stage puts it
    between the encoder and the clustering layer.
    """

    name = "manifold"

    def run(self, run: Run) -> None:
        recipe, data = run.recipe, run.data
        encoder = encoder_of(run.model("autoencoder"))
        z = np.asarray(encoder.predict(data.points_fit, batch_size=4096, verbose=0))
        graph = fuzzy_graph(z, recipe.manifold_neighbors, seed=run.seed)
        head = build_manifold_head(z.shape[1], recipe.manifold_components or run.n_clusters,
                                   recipe.manifold_widths, seed=run.seed)
        losses = fit_manifold_head(
            head, z, graph, *umap_ab(recipe.manifold_min_dist), steps=recipe.manifold_steps,
            batch_size=recipe.manifold_batch_size, negatives=recipe.manifold_negatives,
            learning_rate=recipe.manifold_learning_rate, seed=run.seed,
            verbose="auto" if run.verbose else 0, callbacks=run.callbacks.get(self.name))
        run.report["manifold_graph_points"] = int(len(z))
        run.report["manifold_edges"] = int(len(graph.weight))
        run.report["manifold_history"] = {"loss": losses}
        if recipe.manifold_gradient_scale is None:
            # How much the head stretches the embedding: sets the encoder's step in DEC.
            run.report["manifold_gain"] = head_gain(head, z, seed=run.seed)
        run.checkpoint(self.name, 0, head, "manifold_head")
