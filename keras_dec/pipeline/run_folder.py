"""A training run's folder: its file names, checkpoints, and the readers and writers of its files.

```
<output>/model.keras       the trained DEC (IDEC) model
<output>/metrics.json      the report `train_dec` returns
<output>/history.csv       DEC's loss and label change per epoch
<output>/checkpoints/      state.json and the model files it names
```

Everything that reads or writes these files (`train_dec`, the CLI,
`write_report`, `export`) goes through this module.
"""

from __future__ import annotations

import json
import os
import re
import shutil

import keras

from keras_dec.saving import load_model
from keras_dec.utils import atomic

MODEL_FILE = "model.keras"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.csv"
CHECKPOINTS = "checkpoints"
RUNS_FOLDER = "runs"  # an ensemble's runs, each a run folder of its own
STATE_FILE = "state.json"
# The names `Checkpoints.save` gives model files: `<stem>-<stage>-<epoch>.keras`.
CHECKPOINT_NAME = re.compile(r"[a-z][a-z0-9_]*-[a-z][a-z0-9_]*-\d{6}\.keras")
_STATE_KEYS = {"stage", "epoch", "identity", "report", "finished"}


def read_metrics(run_dir: str | os.PathLike, required: bool = True) -> dict:
    """The `metrics.json` of a run folder; `{}` when absent and not `required`.

    Examples:
        >>> import tempfile
        >>> read_metrics(tempfile.mkdtemp(), required=False)
        {}
    """
    path = os.path.join(os.fspath(run_dir), METRICS_FILE)
    if not os.path.isfile(path):
        if required:
            raise FileNotFoundError(f"No {METRICS_FILE} in the run folder. Received: "
                                    f"{os.fspath(run_dir)!r}")
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            metrics = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(f"{path!r} is unreadable ({e}).") from None
    if not isinstance(metrics, dict):
        raise ValueError(f"{path!r} is not a keras-dec metrics file.")
    return metrics


def metrics_beside(model_path: str | os.PathLike) -> dict:
    """The `metrics.json` that `train` wrote beside a `.keras` model, or {}."""
    return read_metrics(os.path.dirname(os.path.abspath(os.fspath(model_path))), required=False)


def history_csv(history: dict) -> str:
    """The per-epoch history as CSV text, an `epoch` column first.

    Examples:
        >>> print(history_csv({"loss": [0.5, 0.25]}), end="")
        epoch,loss
        0,0.5
        1,0.25
    """
    keys = sorted(history)
    rows = [",".join(["epoch", *keys])]
    for epoch in range(len(history[keys[0]]) if keys else 0):
        rows.append(",".join([str(epoch), *(repr(float(history[k][epoch])) for k in keys)]))
    return "\n".join(rows) + "\n"


def write_run(output: str | os.PathLike, model: keras.Model, report: dict) -> None:
    """Writes a finished run's model, history and metrics, each file atomically."""
    output = os.fspath(output)
    atomic.save_model(model, os.path.join(output, MODEL_FILE))
    atomic.write_text(os.path.join(output, HISTORY_FILE), history_csv(report.get("history", {})))
    atomic.write_json(os.path.join(output, METRICS_FILE), report)


def load_checkpoint(path: str | os.PathLike, kind: type = keras.Model) -> keras.Model:
    """Loads a checkpointed model, refusing one of another class.

    Every error names the file and says how to start over (`--fresh`).
    """
    try:
        model = load_model(path)
    except (ValueError, FileNotFoundError) as e:
        raise ValueError(f"{e} Rerun with --fresh to start over.") from None
    if not isinstance(model, kind):
        raise ValueError(
            f"{os.fspath(path)!r} holds a {type(model).__name__}, not the {kind.__name__} this "
            "run checkpointed. Rerun with --fresh to start over."
        )
    return model


class Checkpoints:
    """Checkpoints in `<output>/checkpoints/`: epoch-numbered model files and a state JSON.

    One checkpoint is one atomic unit: the model is written first, under a
    new name (`dec-dec-000012.keras`), then `state.json` is replaced, naming
    that file; only then are older model files deleted. A kill at any point
    leaves a state that names a complete model of the same epoch (an orphan
    newer model file is removed at the next start).

    The state records the stage that wrote last and its epoch, the stages
    finished, the run's identity (data hash, recipe, seed, backend, ...) and
    its report so far. A state whose identity differs is refused, naming
    what changed.

    Args:
        output: the run folder, or None for a run that keeps no checkpoints.
        identity: dict, what makes two runs the same run.

    Examples:
        >>> import tempfile
        >>> ckpt = Checkpoints(tempfile.mkdtemp(), {"seed": 0})
        >>> ckpt.load(fresh=False)
        >>> ckpt.stage, ckpt.epoch, ckpt.finished
        ('start', 0, [])
    """

    def __init__(self, output: str | os.PathLike | None, identity: dict):
        self.folder = None if output is None else os.path.join(os.fspath(output), CHECKPOINTS)
        self.identity = identity
        self.state = {"stage": "start", "epoch": 0, "identity": identity, "report": {},
                      "finished": []}

    @property
    def stage(self) -> str:
        """The stage that wrote the last checkpoint ("start" before any)."""
        return self.state["stage"]

    @property
    def epoch(self) -> int:
        """The epoch of the last checkpoint within its stage."""
        return self.state["epoch"]

    @property
    def finished(self) -> list[str]:
        """The names of the stages that ran to their end."""
        return self.state["finished"]

    @property
    def report(self) -> dict:
        """The run's report as of the last checkpoint (kept in the state)."""
        return self.state["report"]

    def path(self, name: str) -> str:
        return os.path.join(self.folder, name)

    def model_path(self, stem: str) -> str:
        """The checkpoint file of `stem` ("autoencoder", "dec", ...) that the state names."""
        name = self.state.get("files", {}).get(stem)
        if name is None:
            raise ValueError(
                f"Checkpoint state {self.path(STATE_FILE)!r} names no {stem} checkpoint; "
                "rerun with --fresh to start over."
            )
        return self.path(name)

    def load(self, fresh: bool) -> None:
        """Reads the state left by an earlier run (or starts afresh); removes leftovers."""
        if self.folder is None:
            return
        state_path = self.path(STATE_FILE)
        if fresh and os.path.isdir(self.folder):
            shutil.rmtree(self.folder)
        # A run killed mid-write leaves its temporary files behind.
        atomic.remove_leftovers(self.folder)
        atomic.remove_leftovers(os.path.dirname(self.folder))
        if not os.path.isfile(state_path):
            return
        try:
            with open(state_path, encoding="utf-8") as f:
                state = json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            raise ValueError(f"Checkpoint state {state_path!r} is unreadable ({e}); "
                             "rerun with --fresh to start over.") from None
        _check_state(state, state_path)
        if state["identity"] != self.identity:
            raise ValueError(
                f"{self.folder!r} holds checkpoints of a different run "
                f"({_differences(state['identity'], self.identity)}). Use another --output "
                "folder, or --fresh to discard them."
            )
        self.state = state
        # A kill between writing a model file and the state naming it leaves an orphan.
        self._remove_unreferenced_models()

    def save(self, stage: str, epoch: int, model: keras.Model | None = None,
             stem: str | None = None) -> None:
        """Checkpoints `stage` at `epoch`: `model` (as `stem`), then the state naming it."""
        self.state.update(stage=stage, epoch=epoch)
        if self.folder is None:
            return
        os.makedirs(self.folder, exist_ok=True)
        if model is not None:
            name = f"{stem}-{stage}-{epoch:06d}.keras"
            atomic.save_model(model, self.path(name))
            self.state.setdefault("files", {})[stem] = name
        atomic.write_json(self.path(STATE_FILE), self.state)
        self._remove_unreferenced_models()

    def mark_finished(self, stage: str) -> None:
        """Records that `stage` ran to its end (it is skipped on resume)."""
        if stage not in self.finished:
            self.finished.append(stage)
        self.save(stage, self.epoch if self.stage == stage else 0)

    def _remove_unreferenced_models(self) -> None:
        keep = set(self.state.get("files", {}).values())
        for name in os.listdir(self.folder):
            if CHECKPOINT_NAME.fullmatch(name) and name not in keep:
                os.remove(self.path(name))


def _check_state(state, path) -> None:
    """Refuses a state file that keras-dec did not write, or that names files elsewhere."""
    start_over = "rerun with --fresh to start over."
    if not isinstance(state, dict) or not _STATE_KEYS <= set(state):
        raise ValueError(f"Checkpoint state {path!r} is not a keras-dec state file (or was "
                         f"written by an older keras-dec); {start_over}")
    epoch = state["epoch"]
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise ValueError(f"Checkpoint state {path!r} holds epoch {epoch!r}, not an integer "
                         f">= 0; {start_over}")
    if not isinstance(state["stage"], str) or not isinstance(state["report"], dict):
        raise ValueError(f"Checkpoint state {path!r} is malformed (stage {state['stage']!r}); "
                         f"{start_over}")
    finished = state["finished"]
    if not isinstance(finished, list) or not all(isinstance(s, str) for s in finished):
        raise ValueError(f"Checkpoint state {path!r} lists finished stages {finished!r}; "
                         f"{start_over}")
    files = state.get("files", {})
    if not isinstance(files, dict):
        raise ValueError(f"Checkpoint state {path!r} names files {files!r}; {start_over}")
    for stem, name in files.items():
        # A name is a plain file name of the checkpoint folder: never a path elsewhere.
        if not isinstance(name, str) or not CHECKPOINT_NAME.fullmatch(name):
            raise ValueError(f"Checkpoint state {path!r} names {name!r} as its {stem} model, "
                             f"which is not a checkpoint file name; {start_over}")


def _differences(old: dict, new: dict) -> str:
    """What differs between two identities, e.g. "backend: 'tensorflow' -> 'jax'"."""
    if not isinstance(old, dict):
        return "an unreadable identity"
    changed = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            if key in ("recipe", "data_sha256"):
                changed.append({"recipe": "the recipe", "data_sha256": "the data"}[key])
            else:
                changed.append(f"{key}: {old.get(key)!r} -> {new.get(key)!r}")
    return "; ".join(changed) + " changed"
