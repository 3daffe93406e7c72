"""Export for serving in one call: SavedModel + TFLite variants + parity checks."""

from __future__ import annotations

import contextlib
import json
import os

import numpy as np

from keras_dec.export.parity import check_parity
from keras_dec.export.saved_model import export_saved_model, next_version
from keras_dec.export.tflite import QUANTIZATIONS, export_tflite
from keras_dec.utils.folder_lock import exclusive_folder


def export_for_serving(
    model,
    base_path: str | os.PathLike,
    name: str = "dec",
    tflite: tuple[str, ...] = ("none", "int8"),
    x=None,
    version: int | None = None,
    metadata: dict | None = None,
    parity: bool = True,
    max_parity_samples: int | None = None,
) -> dict:
    """Exports a DEC model for TF Serving and LiteRT, checks parity, then publishes.

    Writes `<base_path>/<name>/<version>/` (SavedModel) and
    `<base_path>/tflite/<name>-v<version>-<mode>.tflite` for each requested
    quantization. With `parity=True` every format is compared with the Keras
    model on `x` *before* the version folder is renamed into place: when a
    check fails, `ParityError` is raised and nothing is published (no
    version folder, no .tflite files), so a polling server never loads it.

    Args:
        model: a trained `keras_dec.DEC`.
        base_path: TF Serving base path.
        name: model name.
        tflite: quantization modes to write, a subset of `QUANTIZATIONS`.
        x: float array of training inputs: calibration for `"int8"` and the
            parity sample. Required when `parity` or `"int8"`.
        version: int or None for the next free version.
        metadata: extra metadata (e.g. training metrics) for the JSON.
        parity: bool, run the parity checks.
        max_parity_samples: int or None, compare on at most this many rows.

    Returns:
        `{"saved_model": path, "version": int, "tflite": {mode: path},
        "sizes": {name: bytes}, "parity": report}`.

    Example:

    >>> result = export_for_serving(dec, "export/models", x=x)  # doctest: +SKIP
    """
    tflite = tuple(tflite)
    for mode in tflite:
        if mode not in QUANTIZATIONS:
            raise ValueError(
                f"`tflite` modes must be among {QUANTIZATIONS}. Received: tflite={tflite!r}"
            )
    if (parity or "int8" in tflite) and x is None:
        raise ValueError(
            "`x` (a sample of the training inputs) is needed for the parity checks and "
            "int8 calibration. Received: x=None"
        )
    if x is not None:
        x = np.asarray(x, dtype="float32")
        if max_parity_samples:
            x = x[:max_parity_samples]
    model_dir = os.path.join(os.fspath(base_path), name)
    tflite_dir = os.path.join(os.fspath(base_path), "tflite")
    # One export at a time per base path: a version's SavedModel and its TFLite
    # files are then built from one model, and no export tests another's files.
    with exclusive_folder(base_path, "keras-dec export"), _no_new_empty_folders(
        model_dir, tflite_dir
    ):
        return _build_and_publish(model, base_path, name, tflite, x, version, metadata, parity,
                                  model_dir, tflite_dir)


@contextlib.contextmanager
def _no_new_empty_folders(*folders):
    """On failure, removes those of `folders` that the block created and left empty."""
    created = [folder for folder in folders if not os.path.isdir(folder)]
    try:
        yield
    except BaseException:
        for folder in created:
            with contextlib.suppress(OSError):  # not empty, or never made
                os.rmdir(folder)
        raise


def _build_and_publish(model, base_path, name, tflite, x, version, metadata, parity,
                       model_dir, tflite_dir) -> dict:
    if version is None:
        version = next_version(model_dir)
    tflite_files = {
        mode: os.path.join(tflite_dir, f"{name}-v{version}-{mode}.tflite") for mode in tflite
    }
    existing = [p for p in tflite_files.values() if os.path.exists(p)]
    if existing:
        raise FileExistsError(f"TFLite file(s) already exist: {existing}; pick another version.")
    result: dict = {"version": version, "tflite": tflite_files, "parity": None}

    def build_and_check(staging_dir):
        try:
            for mode, path in tflite_files.items():
                export_tflite(staging_dir, path, mode, representative_data=x)
            if parity:
                result["parity"] = check_parity(model, x, staging_dir, tflite_files)
                with open(os.path.join(staging_dir, "assets.extra", "parity.json"), "w",
                          encoding="utf-8") as f:
                    json.dump(result["parity"], f, indent=2, sort_keys=True)
        except BaseException:
            for path in tflite_files.values():
                if os.path.exists(path):
                    os.remove(path)
            raise

    result["saved_model"] = export_saved_model(
        model, base_path, name=name, version=version, metadata=metadata, validate=build_and_check
    )
    result["sizes"] = {"saved_model": _folder_size(result["saved_model"])}
    for mode, path in tflite_files.items():
        result["sizes"][f"tflite_{mode}"] = os.path.getsize(path)
    return result


def _folder_size(path: str) -> int:
    return sum(
        os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(path) for f in files
    )

