"""Stage 3: DEC's KL fine-tuning of the encoder and the centres, to `tol` or `max_iter`."""

from __future__ import annotations

from keras_dec.models.dec import DEC
from keras_dec.pipeline.callbacks import StageProgress
from keras_dec.pipeline.stages.base import Run, Stage


class Cluster(Stage):
    """Trains DEC one epoch per call until the label change falls below `tol` or `max_iter`.

    The target is refreshed every `update_interval` steps over the whole
    data set (`DEC.fit`'s `TargetRefresh`, which also checks the loss and
    the weights). Keeps DEC's per-epoch `history` and every refresh's record
    in the report; checkpoints every `checkpoint_every` epochs.
    """

    name = "dec"

    def run(self, run: Run) -> None:
        recipe = run.recipe
        dec = run.model("dec", DEC)
        epoch = run.ckpt.epoch if run.resuming(self.name) else 0
        batches = -(-run.data.n_samples // recipe.batch_size)
        total_epochs = -(-recipe.max_iter // batches)
        callbacks = [StageProgress(total_epochs), *run.callbacks.get(self.name, [])]
        history = run.report.setdefault("history", {"loss": [], "label_change": []})
        refreshes = run.report.setdefault("refreshes", [])
        while dec.n_iter_ < recipe.max_iter and not dec.converged_:
            steps = min(batches, recipe.max_iter - dec.n_iter_)
            logs, records = run.epochs.cluster(dec, epoch, steps, total_epochs, callbacks,
                                               recipe.batch_size)
            epoch += 1
            for key in history:
                history[key].append(float(logs[key]))
            refreshes.extend(records)
            done = dec.converged_ or dec.n_iter_ >= recipe.max_iter
            if run.checkpoint_due(epoch, done):
                run.checkpoint(self.name, epoch, dec, "dec")
