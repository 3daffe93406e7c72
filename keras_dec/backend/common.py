"""Pieces shared by the backends whose `fit` takes NumPy arrays directly (JAX, PyTorch)."""

from __future__ import annotations


def array_fit_inputs(x, batch_size, pairs=False) -> dict:
    """`fit` arguments feeding `x` (and `x` as targets, with `pairs`) in order, in batches."""
    return {"x": x, "y": x if pairs else None, "batch_size": batch_size}


def array_predict_inputs(x, batch_size) -> dict:
    """`predict` arguments feeding `x` in order, in batches."""
    return {"x": x, "batch_size": batch_size}
