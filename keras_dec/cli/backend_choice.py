"""Which Keras backend `keras-dec train` and `select-k` train on (`--backend`).

Keras fixes its backend when it is first imported (`KERAS_BACKEND`), so the
command line decides before training starts, and the console script starts
itself again on the chosen backend when the one already loaded differs.
Export, predict and serving stay on TensorFlow: a model trained on any
backend exports with parity.

The `auto` rule, from the measurements in `benchmarks/results/cpu_speed/`
and `benchmarks/results/conv_speed/` (the docs' Backends page):

- the dense autoencoder (the paper's, the default): JAX when it is
  installed. On 2-core CPUs it pretrains 1.2x to 2.5x faster than
  TensorFlow (whose `fit` spends time outside the matmul kernels) and 2.5x
  faster than PyTorch; on a GPU its device loop is the fast path.
- the convolutional backbone: TensorFlow, whose CPU convolutions are 4-6x
  faster than XLA's.
- otherwise the first installed of TensorFlow, JAX, PyTorch.

`KERAS_BACKEND`, when set, wins over `auto`; an explicit `--backend` that
contradicts it is refused.
"""

from __future__ import annotations

import importlib.util
import os

BACKENDS = ("auto", "tensorflow", "jax", "torch")
_MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
# Set by the console script for the process it starts again, to report why.
REASON_VARIABLE = "KERAS_DEC_BACKEND_REASON"


def installed(backend: str) -> bool:
    """Whether the framework of `backend` can be imported here."""
    return importlib.util.find_spec(_MODULES[backend]) is not None


def choose_backend(requested: str, environment: str | None, conv: bool,
                   is_installed=installed) -> tuple[str, str]:
    """`(backend, reason)` for `--backend requested` under `KERAS_BACKEND=environment`.

    Examples:
        >>> choose_backend("auto", None, conv=False, is_installed=lambda b: True)
        ('jax', 'auto: the fastest installed backend for the dense autoencoder')
        >>> choose_backend("auto", "torch", conv=False, is_installed=lambda b: True)
        ('torch', 'KERAS_BACKEND=torch')
    """
    if requested not in BACKENDS:
        raise ValueError(f"`--backend` must be one of {BACKENDS}. Received: --backend "
                         f"{requested!r}")
    if environment:
        if requested not in ("auto", environment):
            raise ValueError(f"`--backend {requested}` contradicts KERAS_BACKEND={environment}; "
                             "unset one of them.")
        return environment, f"KERAS_BACKEND={environment}"
    if requested != "auto":
        if not is_installed(requested):
            extra = {"tensorflow": "tensorflow", "jax": "keras-dec[jax]",
                     "torch": "keras-dec[torch]"}[requested]
            raise ValueError(f"`--backend {requested}` is not installed here: "
                             f"pip install '{extra}'. Received: --backend {requested}")
        return requested, f"--backend {requested}"
    order = ("tensorflow", "torch", "jax") if conv else ("jax", "tensorflow", "torch")
    for backend in order:
        if is_installed(backend):
            model = "the conv backbone" if conv else "the dense autoencoder"
            return backend, f"auto: the fastest installed backend for {model}"
    raise ValueError("No Keras backend is installed: pip install tensorflow, or "
                     "'keras-dec[jax]' or 'keras-dec[torch]'.")


def settle_backend(requested: str, conv: bool, argv: list[str] | None,
                   restart: bool) -> str:
    """Makes this process train on the chosen backend; returns the line that says which.

    Keras is already imported (by `keras_dec`). When the chosen backend
    differs from the loaded one, the console script (`restart=True`)
    replaces this process by `python -m keras_dec.cli ARGV` with
    `KERAS_BACKEND` set; a library call of `main` keeps the loaded backend
    for `auto`, and refuses an explicit one it cannot switch to.
    """
    import sys

    import keras

    loaded = keras.backend.backend()
    backend, reason = choose_backend(requested, os.environ.get("KERAS_BACKEND"), conv)
    if backend != loaded:
        if restart and argv is not None:
            env = {**os.environ, "KERAS_BACKEND": backend, REASON_VARIABLE: reason}
            sys.stdout.flush()
            sys.stderr.flush()
            os.execve(sys.executable, [sys.executable, "-m", "keras_dec.cli", *argv], env)
        if requested != "auto":
            raise ValueError(f"`--backend {backend}`: this process already runs Keras on "
                             f"{loaded}; start it with KERAS_BACKEND={backend}.")
        backend, reason = loaded, f"auto: this process already runs Keras on {loaded}"
    reason = os.environ.get(REASON_VARIABLE, reason) if reason.startswith("KERAS_BACKEND") \
        else reason
    return f"keras-dec: training on the {backend} backend ({reason})"
