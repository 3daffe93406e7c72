"""Argument and data checks shared by the public API.

Every check raises `ValueError`/`TypeError` with a message that names the
argument in backticks and echoes what was received.
"""

from __future__ import annotations

import numbers

import numpy as np


def check_int(name: str, value, minimum: int) -> int:
    """Returns `value` as an `int` if it is an integer >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"`{name}` must be an integer >= {minimum}. "
            f"Received: {name}={value!r} (of type {type(value).__name__})"
        )
    if value < minimum:
        raise ValueError(
            f"`{name}` must be an integer >= {minimum}. Received: {name}={value!r}"
        )
    return int(value)


def check_positive_float(name: str, value) -> float:
    """Returns `value` as a `float` if it is a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"`{name}` must be a number > 0. Received: {name}={value!r} "
            f"(of type {type(value).__name__})"
        )
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"`{name}` must be a finite number > 0. Received: {name}={value!r}")
    return float(value)


def check_fraction(name: str, value) -> float:
    """Returns `value` as a `float` if it lies in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"`{name}` must be a number in [0, 1]. Received: {name}={value!r} "
            f"(of type {type(value).__name__})"
        )
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"`{name}` must be a number in [0, 1]. Received: {name}={value!r}")
    return float(value)


def check_side_fraction(name: str, value) -> float:
    """Returns `value` as a `float` if it lies in [0, 1): a shift as a fraction of an image side."""
    if check_fraction(name, value) >= 1.0:
        raise ValueError(f"`{name}` must be below 1 (a fraction of the image side). "
                         f"Received: {name}={value!r}")
    return float(value)


def check_degrees(name: str, value) -> float:
    """Returns `value` as a `float` if it is a number of degrees in [0, 180]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 180:
        raise ValueError(f"`{name}` must be a number of degrees in [0, 180]. "
                         f"Received: {name}={value!r}")
    return float(value)


def check_choice(name: str, value, choices: tuple[str, ...]) -> str:
    """Returns `value` if it is one of `choices`."""
    if value not in choices:
        names = [repr(c) for c in choices]
        listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
        raise ValueError(f"`{name}` must be {listed}. Received: {name}={value!r}")
    return value


def check_scaled(x, name: str = "x") -> None:
    """Refuses integer arrays other than 0/1: unscaled images or counts.

    The same rule for `train`, `predict` and `export`, so a model is never fed
    data scaled differently from what it was trained on.

    Examples:
        >>> import numpy as np
        >>> check_scaled(np.array([[0, 1], [1, 0]]))
        >>> check_scaled(np.array([[0, 255]]))
        Traceback (most recent call last):
        ...
        ValueError: `x` holds integers from 0 to 255: unscaled images or counts. ...
    """
    arr = np.asarray(x)
    if arr.dtype.kind in "iu" and arr.size:
        low, high = arr.min(), arr.max()
        if low < 0 or high > 1:
            raise ValueError(
                f"`{name}` holds integers from {low} to {high}: unscaled images or counts. "
                "Scale them first (e.g. x / 255 for 8-bit images, or standardise each "
                f"column) and save them as floats. Received: {name} with dtype {arr.dtype}"
            )


def check_float32_range(x: np.ndarray, name: str = "x") -> None:
    """Refuses finite float64 values that float32 would turn into Inf."""
    if x.dtype.kind == "f" and x.dtype.itemsize > 4:
        limit = np.finfo("float32").max
        beyond = int(np.count_nonzero(np.isfinite(x) & (np.abs(x) > limit)))
        if beyond:
            raise ValueError(
                f"`{name}` holds {beyond} finite value(s) beyond float32's range "
                f"(|v| > {limit:.3g}), which would overflow to Inf. Rescale the data first. "
                f"Received: {name} with dtype {x.dtype}"
            )


def check_features(
    x,
    name: str = "x",
    n_features: int | None = None,
    min_samples: int = 1,
) -> np.ndarray:
    """Checks a 2-D (or image) feature array and returns it as float32.

    Refuses non-numeric dtypes, empty arrays, NaN/Inf, a feature count other
    than `n_features` (when given) and fewer than `min_samples` rows.
    """
    arr = np.asarray(x)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_
    ):
        raise TypeError(
            f"`{name}` must hold numbers. Received: {name} with dtype {arr.dtype}"
        )
    if arr.ndim < 2:
        raise ValueError(
            f"`{name}` must have shape (n_samples, n_features, ...), with at least "
            f"2 dimensions. Received: {name} with shape {arr.shape}"
        )
    if arr.shape[0] == 0 or arr.size == 0:
        raise ValueError(f"`{name}` is empty. Received: {name} with shape {arr.shape}")
    check_float32_range(arr, name)
    arr = arr.astype("float32", copy=False)
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(
            f"`{name}` contains {bad} NaN or Inf value(s); clean or impute them first. "
            f"Received: {name} with shape {arr.shape}"
        )
    if n_features is not None and tuple(arr.shape[1:]) != _as_tuple(n_features):
        raise ValueError(
            f"`{name}` must have per-sample shape {_as_tuple(n_features)} to match "
            f"the encoder's input. Received: {name} with shape {arr.shape}"
        )
    if arr.shape[0] < min_samples:
        raise ValueError(
            f"`{name}` must have at least {min_samples} samples (one per cluster). "
            f"Received: {name} with {arr.shape[0]} samples"
        )
    return arr


def distinct_rows(x: np.ndarray, at_least: int) -> int:
    """How many distinct rows `x` has, counted only as far as `at_least`.

    Returns a number >= `at_least` as soon as a leading block of rows holds
    that many (a few rows, for real data), and the exact count otherwise, so
    the full sort over every row (seconds for 70,000 images) runs only for
    data that fails the check.

    Examples:
        >>> distinct_rows(np.array([[0.0], [1.0], [1.0]]), 5)
        2
    """
    rows = x.reshape(len(x), -1)
    n = min(len(rows), 4 * at_least)
    while True:
        found = len(np.unique(rows[:n], axis=0))
        if found >= at_least or n == len(rows):
            return found
        n = min(len(rows), 8 * n)


def _as_tuple(shape) -> tuple:
    if isinstance(shape, numbers.Integral):
        return (int(shape),)
    return tuple(int(s) for s in shape)
