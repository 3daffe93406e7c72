"""Stage 1: pretrain the autoencoder to reconstruct the (scaled) data."""

from __future__ import annotations

import keras

from keras_dec.backbones.pretraining import pretrain_autoencoder
from keras_dec.pipeline.builders import augmented_rows, build_pretraining_autoencoder
from keras_dec.pipeline.callbacks import StageProgress, StopOnNonFinite
from keras_dec.pipeline.stages.base import Run, Stage


class Pretrain(Stage):
    """Trains the autoencoder one epoch per call, checkpointing as it goes.

    Leaves `run.models["autoencoder"]` and the per-epoch losses in
    `report["pretrain_history"]`. With `recipe.pretrain_method="layerwise"`
    the paper's greedy layer-wise stage runs first (not resumable inside).
    """

    name = "pretrain"

    def run(self, run: Run) -> None:
        recipe, data = run.recipe, run.data
        if run.resuming(self.name):
            autoencoder, epoch = run.model("autoencoder"), run.ckpt.epoch
        else:
            autoencoder, epoch = self._new_autoencoder(run), 0
        epochs = recipe.pretrain_epochs_for(data.n_samples)
        callbacks = [StopOnNonFinite("pretraining"), StageProgress(epochs),
                     *run.callbacks.get(self.name, [])]
        losses = run.report.setdefault("pretrain_history", {"loss": []})["loss"]
        while epoch < epochs:
            loss = run.epochs.pretrain(autoencoder, epoch, epochs, callbacks,
                                       recipe.pretrain_batch_size, rows=augmented_rows(
                                           recipe, run.image_shape, run.seed, data.x_fit, epoch))
            # Kept in the report (and so in each checkpoint's state) for the training curves.
            losses.append(float(loss))
            epoch += 1
            if run.checkpoint_due(epoch, epoch == epochs):
                run.checkpoint(self.name, epoch, autoencoder, "autoencoder")
        run.models["autoencoder"] = autoencoder

    @staticmethod
    def _new_autoencoder(run: Run) -> keras.Model:
        recipe, data = run.recipe, run.data
        autoencoder = build_pretraining_autoencoder(recipe, data.n_features, data.n_samples,
                                                    run.image_shape, run.seed)
        if recipe.pretrain_method == "layerwise":
            optimizer = autoencoder.optimizer
            pretrain_autoencoder(autoencoder, data.x_fit, method="layerwise", epochs=0,
                                 layerwise_epochs=recipe.pretrain_epochs,
                                 batch_size=recipe.pretrain_batch_size,
                                 verbose="auto" if run.verbose else 0, seed=run.seed,
                                 check_input=False)
            autoencoder.compile(optimizer=optimizer, loss="mse")
        return autoencoder

