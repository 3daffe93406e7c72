"""What every stage shares: the `Run` it works on, and the loop that runs the stages in order."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

import keras

from keras_dec.pipeline.data import TrainingData
from keras_dec.pipeline.epochs import FitEpochs
from keras_dec.pipeline.run_folder import Checkpoints, load_checkpoint
from keras_dec.recipe import Recipe


@dataclasses.dataclass
class Run:
    """One training run as its stages see it: the data, the recipe, the models so far.

    A stage reads what earlier stages left in `models` (loaded from their
    checkpoints on resume, by `model`), writes its results into `models`,
    `labels` and `report`, and calls `checkpoint` as often as it can stop
    and resume. The stage's time is kept in `report["seconds"][name]` (it
    survives a kill: each checkpoint adds the time since the last one).

    Attributes:
        data: the checked `TrainingData`.
        recipe: the `Recipe`.
        n_clusters: int.
        seed: int or None.
        ckpt: the run's `Checkpoints` (a folder-less one without `output`).
        epochs: how an epoch runs (`FitEpochs` or `DeviceEpochs`).
        verbose: int, 1 shows Keras progress bars.
        checkpoint_every: int, epochs between checkpoints.
        image_shape: the images' shape, where the recipe needs images.
        callbacks: `{stage name: [keras callbacks]}` the user passed.
        models: `{stem: keras.Model}` made so far ("autoencoder", "dec").
        labels: `{method: cluster labels of data.points}` for the report.
    """

    data: TrainingData
    recipe: Recipe
    n_clusters: int
    seed: int | None
    ckpt: Checkpoints
    epochs: FitEpochs
    verbose: int = 1
    checkpoint_every: int = 1
    image_shape: tuple | None = None
    callbacks: dict = dataclasses.field(default_factory=dict)
    models: dict = dataclasses.field(default_factory=dict)
    labels: dict = dataclasses.field(default_factory=dict)
    _clock: tuple | None = None

    @property
    def report(self) -> dict:
        """The run's report, kept in (and saved with) the checkpoint state."""
        return self.ckpt.report

    def resuming(self, stage: str) -> bool:
        """Whether the last checkpoint was written inside `stage` (which then resumes)."""
        return self.ckpt.stage == stage

    def model(self, stem: str, kind: type = keras.Model) -> keras.Model:
        """The model `stem` from an earlier stage: in memory, or its checkpoint."""
        if stem not in self.models:
            self.models[stem] = load_checkpoint(self.ckpt.model_path(stem), kind)
        return self.models[stem]

    def checkpoint_due(self, epoch: int, last: bool) -> bool:
        """Whether to checkpoint after `epoch` (every `checkpoint_every`, and the last)."""
        return epoch % self.checkpoint_every == 0 or last

    def checkpoint(self, stage: str, epoch: int, model: keras.Model | None = None,
                   stem: str | None = None) -> None:
        """Records the stage's time so far, then checkpoints `model` as `stem` at `epoch`."""
        self._record_time()
        if model is not None:
            self.models[stem] = model
        self.ckpt.save(stage, epoch, model, stem)

    def start_clock(self, stage: str) -> None:
        """Starts timing `stage`."""
        self._clock = (stage, time.perf_counter())

    def stop_clock(self) -> None:
        """Adds the time since the last checkpoint to the stage's seconds; stops timing."""
        self._record_time()
        self._clock = None

    def _record_time(self) -> None:
        if self._clock is not None:
            stage, start = self._clock
            now = time.perf_counter()
            seconds = self.report.setdefault("seconds", {})
            seconds[stage] = seconds.get(stage, 0.0) + now - start
            self._clock = (stage, now)


class Stage:
    """A named step of `train_dec`: pretraining, k-means initialisation, DEC, evaluation.

    A stage sets `name` (its key in the checkpoint state and in the report's
    `seconds`) and implements `run(run)`. It is run once per training run:
    a stage listed as finished in the checkpoint state is skipped on resume,
    and a stage that checkpointed part-way resumes from its checkpoint
    (`run.resuming(name)`). Adding a stage is one class and one entry in
    `train_dec`'s sequence.
    """

    name = ""

    def run(self, run: Run) -> None:
        raise NotImplementedError


def run_stages(stages: Sequence[Stage], run: Run) -> None:
    """Runs the stages that have not finished yet, in order, timing each.

    Examples:
        >>> class Hello(Stage):
        ...     name = "hello"
        ...     def run(self, run):
        ...         run.report["greeting"] = "hi"
        >>> from keras_dec.pipeline.run_folder import Checkpoints
        >>> run = Run(None, None, 2, 0, Checkpoints(None, {}), None)
        >>> run_stages([Hello()], run)
        >>> run.report["greeting"], run.ckpt.finished, sorted(run.report["seconds"])
        ('hi', ['hello'], ['hello'])
    """
    for stage in stages:
        if stage.name in run.ckpt.finished:
            continue
        run.start_clock(stage.name)
        stage.run(run)
        run.stop_clock()
        run.ckpt.mark_finished(stage.name)
