"""Stage 2: k-means on the embeddings gives DEC's initial centres."""

from __future__ import annotations

from keras_dec.manifold import encoder_gradient_scale
from keras_dec.metrics import evaluate_clustering
from keras_dec.pipeline.builders import (
    build_augmentation,
    build_clustering_model,
    compile_clustering_model,
)
from keras_dec.pipeline.stages.base import Run, Stage


class InitializeCenters(Stage):
    """Builds DEC (or IDEC) on the pretrained encoder and sets its centres by k-means.

    k-means (the recipe's `n_init` restarts; or a Gaussian mixture with
    `recipe.init="gmm"`) runs on the embeddings of `data.points`: every row
    of an array, a stream's sample. With a manifold stage before it, DEC's
    encoder ends with the manifold head and the centres start on its
    output. Leaves the compiled model in `run.models["dec"]`
    (checkpointed) and the initial labels as the "autoencoder_kmeans"
    baseline. Under a head, the encoder's gradient is scaled by
    `recipe.manifold_gradient_scale`, or by `encoder_gradient_scale` of the
    head's gain that the Manifold stage measured (both in the report).
    """

    name = "kmeans_init"

    def run(self, run: Run) -> None:
        recipe = run.recipe
        augmentation = build_augmentation(recipe, run.image_shape, run.seed, "dec")
        head = run.model("manifold_head") if recipe.manifold != "none" else None
        scale = 1.0
        if head is not None:
            scale = recipe.manifold_gradient_scale
            if scale is None:  # the Manifold stage measured the head's gain
                scale = encoder_gradient_scale(run.report["manifold_gain"])
            run.report["encoder_gradient_scale"] = scale
        dec = build_clustering_model(recipe, run.model("autoencoder"), run.n_clusters,
                                     run.data.scaling, augmentation, head, scale)
        dec.initialize_centers(run.data.points, n_init=recipe.n_init, seed=run.seed,
                               check_input=False, method=recipe.init_method)
        run.labels["autoencoder_kmeans"] = dec.initial_labels_
        if run.data.y is not None:
            run.report["autoencoder_kmeans"] = evaluate_clustering(run.data.y, dec.initial_labels_)
        compile_clustering_model(recipe, dec)
        run.checkpoint(self.name, 0, dec, "dec")
