"""Imports TensorFlow without its INFO start-up banner on stderr.

TensorFlow's C++ side prints INFO lines at import (oneDNN notice, CUDA
probing, CPU features) through absl, which no environment variable silences
in TF 2.21. They would bury the CLI's one-line errors. This captures file
descriptor 2 during the import (and the first device query, where a CUDA
build probes for a GPU) and writes back everything except those INFO lines
and the "failed call to cuInit ... (303)" error that only says there is no
GPU, so warnings and real errors still reach the user.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
import tempfile

_INFO = re.compile(r"^I\d{4} ")
_NOISE = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "To enable the following instructions:",
)
# What a CUDA build of TensorFlow logs, as an error, on a machine without a GPU.
_NO_GPU = re.compile(r"failed call to cuInit: .*(UNKNOWN ERROR \(303\)|CUDA_ERROR_NO_DEVICE)")


def configured_backend() -> str:
    """The Keras backend that `import keras` will pick, without importing Keras.

    Keras' own rule: `$KERAS_BACKEND`, else `backend` in `$KERAS_HOME/keras.json`
    (default `~/.keras/keras.json`), else TensorFlow.
    """
    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    try:
        with open(os.path.join(home, "keras.json"), encoding="utf-8") as f:
            return str(json.load(f).get("backend", "tensorflow"))
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def tensorflow_wanted() -> bool:
    """Whether TensorFlow will be imported: it is the backend, or it is installed.

    False where it is absent, or made unimportable (`sys.modules["tensorflow"] = None`).
    """
    if configured_backend() == "tensorflow":
        return True
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"] is not None
    return importlib.util.find_spec("tensorflow") is not None


def import_tensorflow_quietly():
    """`import tensorflow`, dropping its INFO banner lines from stderr."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    try:
        saved = os.dup(2)
    except OSError:
        import tensorflow

        return tensorflow
    with tempfile.TemporaryFile(mode="w+b") as capture:
        sys.stderr.flush()
        os.dup2(capture.fileno(), 2)
        try:
            import tensorflow

            # TensorFlow probes CUDA at the first device query, not at import:
            # do it here, where its "no GPU" error line can be recognised.
            tensorflow.config.list_physical_devices("GPU")
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode("utf-8", "replace")
    kept = [
        line for line in text.splitlines()
        if line.strip() and not _INFO.match(line) and not line.startswith(_NOISE)
        and not _NO_GPU.search(line)
    ]
    if kept:
        sys.stderr.write("\n".join(kept) + "\n")
    return tensorflow
