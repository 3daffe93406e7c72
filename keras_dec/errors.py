"""Exceptions of keras-dec that the command line turns into one-line errors.

They live here, free of TensorFlow, so that the CLI can catch them on any backend.
"""

from __future__ import annotations


class ParityError(RuntimeError):
    """An exported model does not reproduce the Keras model within its threshold."""


class FolderInUseError(RuntimeError):
    """Another keras-dec process holds the lock on the output folder."""
