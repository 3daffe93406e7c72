"""Stage 2: k-means on the embeddings gives DEC's initial centres."""

from __future__ import annotations

from keras_dec.backbones.autoencoder import encoder_of
from keras_dec.manifold import encoder_gradient_scale, head_gain
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
    head's gain on the embeddings of `data.points` (both in the report).
    """

    name = "kmeans_init"

    def run(self, run: Run) -> None:
        recipe = run.recipe
        augmentation = build_augmentation(recipe, run.image_shape, run.seed, "dec")
        head = run.model("manifold_head") if recipe.manifold != "none" else None
        scale = 1.0 if head is None else self.gradient_scale(run, head)
        dec = build_clustering_model(recipe, run.model("autoencoder"), run.n_clusters,
                                     run.data.scaling, augmentation, head, scale)
        dec.initialize_centers(run.data.points, n_init=recipe.n_init, seed=run.seed,
                               check_input=False, method=recipe.init_method)
        run.labels["autoencoder_kmeans"] = dec.initial_labels_
        if run.data.y is not None:
            run.report["autoencoder_kmeans"] = evaluate_clustering(run.data.y, dec.initial_labels_)
        compile_clustering_model(recipe, dec)
        run.checkpoint(self.name, 0, dec, "dec")

    @staticmethod
    def gradient_scale(run: Run, head) -> float:
        """The encoder's gradient factor under `head`: the recipe's, or 1 / gain^2."""
        if run.recipe.manifold_gradient_scale is not None:
            scale = run.recipe.manifold_gradient_scale
        else:
            encoder = encoder_of(run.model("autoencoder"))
            z = encoder.predict(run.data.points_fit, batch_size=4096, verbose=0)
            gain = head_gain(head, z, seed=run.seed)
            run.report["manifold_gain"] = gain
            scale = encoder_gradient_scale(gain)
        run.report["encoder_gradient_scale"] = scale
        return scale
