"""Loading `.keras` files safely, with errors that name the file."""

from __future__ import annotations

import os
import zipfile

import keras


def load_model(path: str | os.PathLike, compile: bool = True) -> keras.Model:
    """Loads a `.keras` file with Keras' safe mode on, and a clear error if it is unusable.

    Safe mode refuses models that carry Python code (a `Lambda` layer): such a
    file is rejected instead of being executed. A missing, truncated or
    corrupt file raises an error that names it.

    Examples:
        >>> dec = load_model("runs/digits/model.keras")  # doctest: +SKIP
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Model file not found. Received: path={path!r}")
    if not path.endswith(".keras"):
        raise ValueError(f"`path` must be a .keras file. Received: path={path!r}")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path!r} is not a valid .keras file (truncated or corrupt).")
    try:
        return keras.saving.load_model(path, compile=compile, safe_mode=True)
    except ValueError as e:
        if "Lambda" in str(e) or "safe_mode" in str(e):
            raise ValueError(
                f"{path!r} holds a Lambda layer (arbitrary Python code); keras-dec loads "
                "models in Keras' safe mode and refuses it."
            ) from None
        raise ValueError(f"{path!r} cannot be loaded as a Keras model: {e}") from None
    except Exception as e:  # noqa: BLE001 - h5py/zip/json errors all mean a bad file
        raise ValueError(
            f"{path!r} is not a valid .keras file ({type(e).__name__}: {e})."
        ) from None
