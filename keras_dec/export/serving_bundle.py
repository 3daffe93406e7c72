"""Export for serving in one call: SavedModel + TFLite variants + parity checks."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile

import numpy as np

from keras_dec.export.parity import check_parity
from keras_dec.export.saved_model import METADATA_FILE, export_saved_model, next_version
from keras_dec.export.tflite import QUANTIZATIONS, export_tflite
from keras_dec.utils import atomic
from keras_dec.utils.folder_lock import exclusive_folder

TFLITE_FOLDER = "tflite"
# Written while a version's TFLite files and SavedModel folder are being published.
JOURNAL_FILE = ".keras-dec-export.json"


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

    Writes `<base_path>/<name>/<version>/` (SavedModel),
    `<base_path>/tflite/<name>-v<version>-<mode>.tflite` for each requested
    quantization and `<base_path>/tflite/<name>-v<version>.json`, the TFLite
    files' manifest (input shape, whether the model scales its input). With
    `parity=True` every format is compared with the Keras model on `x`
    *before* anything is published: when a check fails, `ParityError` is
    raised and nothing is published (no version folder, no .tflite files),
    so a polling server never loads it.

    Everything is built in staging folders; the TFLite files are then
    renamed into place, and the SavedModel folder last, under a journal: a
    kill at any point leaves either a complete version with its TFLite files,
    or (after `recover_interrupted_export`, which the next export runs)
    nothing.

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

    Examples:
        >>> result = export_for_serving(dec, "export/models", x=x)  # doctest: +SKIP
    """
    tflite = tuple(tflite)
    for mode in tflite:
        if mode not in QUANTIZATIONS:
            raise ValueError(
                f"`tflite` modes must be among {QUANTIZATIONS}. Received: tflite={tflite!r}"
            )
    if name == TFLITE_FOLDER:
        raise ValueError(f"`name` must not be {TFLITE_FOLDER!r}: that folder holds the TFLite "
                         f"files. Received: name={name!r}")
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
    tflite_dir = os.path.join(os.fspath(base_path), TFLITE_FOLDER)
    # One export at a time per base path: a version's SavedModel and its TFLite
    # files are then built from one model, and no export tests another's files.
    with exclusive_folder(base_path, "keras-dec export"), _no_new_empty_folders(
        model_dir, tflite_dir
    ):
        recover_interrupted_export(base_path)
        return _build_and_publish(model, base_path, name, tflite, x, version, metadata, parity,
                                  model_dir, tflite_dir)


def tflite_manifest_path(tflite_dir: str | os.PathLike, name: str, version: int) -> str:
    """`<tflite_dir>/<name>-v<version>.json`: what the version's TFLite files need to know.

    It says, among other things, whether the model scales raw features
    itself (`input_scaling`), so a TFLite predictor can apply the same
    scaling rule as the SavedModel's.
    """
    return os.path.join(os.fspath(tflite_dir), f"{name}-v{version}.json")


def recover_interrupted_export(base_path: str | os.PathLike) -> list[str]:
    """Cleans up after an export that was killed; returns the paths it removed.

    Call it holding the base path's lock (`export_for_serving` does). An
    export publishes a version's TFLite files, then its SavedModel folder,
    with a journal naming both written before and removed after. A journal
    left behind whose version folder does not exist means the export died
    between the two: its TFLite files are removed, so no TFLite file is ever
    left without its SavedModel. Staging folders (`.tmp-*`) of dead exports
    are removed too.
    """
    base_path = os.fspath(base_path)
    removed = []
    journal = os.path.join(base_path, JOURNAL_FILE)
    if os.path.isfile(journal):
        try:
            with open(journal, encoding="utf-8") as f:
                entry = json.load(f)
            version_dir, files = entry["saved_model"], list(entry["files"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ValueError(f"The export journal {journal!r} is unreadable ({e}); check the "
                             "TFLite files of the version it names, then remove it.") from None
        if not os.path.isdir(os.path.join(base_path, version_dir)):
            for path in files:
                path = os.path.join(base_path, path)
                if os.path.exists(path):
                    os.remove(path)
                    removed.append(path)
        os.remove(journal)
    for folder in os.listdir(base_path) if os.path.isdir(base_path) else []:
        folder = os.path.join(base_path, folder)
        if not os.path.isdir(folder):
            continue
        for entry in os.listdir(folder):
            if entry.startswith(".tmp-") and os.path.isdir(os.path.join(folder, entry)):
                shutil.rmtree(os.path.join(folder, entry), ignore_errors=True)
                removed.append(os.path.join(folder, entry))
    return removed


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
    manifest = tflite_manifest_path(tflite_dir, name, version)
    published = [*tflite_files.values(), manifest] if tflite else []
    existing = [p for p in published if os.path.exists(p)]
    if existing:
        raise FileExistsError(f"TFLite file(s) already exist: {existing}; pick another version.")
    result: dict = {"version": version, "tflite": tflite_files, "parity": None}
    staging = None
    if tflite:
        os.makedirs(tflite_dir, exist_ok=True)
        staging = tempfile.mkdtemp(prefix=f".tmp-{name}-v{version}-", dir=tflite_dir)

    def build_check_and_publish_tflite(saved_model_staging):
        staged = _build_and_check(model, x, parity, saved_model_staging, staging, tflite_files,
                                  result)
        if tflite:
            _publish_tflite(base_path, os.path.join(name, str(version)), saved_model_staging,
                            staged, tflite_files, manifest)

    try:
        result["saved_model"] = export_saved_model(
            model, base_path, name=name, version=version, metadata=metadata,
            validate=build_check_and_publish_tflite)
    except BaseException:
        if not os.path.isdir(os.path.join(model_dir, str(version))):
            for path in published:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path)
        raise
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(os.fspath(base_path), JOURNAL_FILE))
    result["sizes"] = {"saved_model": _folder_size(result["saved_model"])}
    for mode, path in tflite_files.items():
        result["sizes"][f"tflite_{mode}"] = os.path.getsize(path)
    if tflite:
        result["manifest"] = manifest
    return result


def _build_and_check(model, x, parity, saved_model_staging, staging, tflite_files,
                     result) -> dict:
    """Converts the staged SavedModel to each TFLite mode in `staging`, and checks parity."""
    staged = {mode: os.path.join(staging, os.path.basename(path))
              for mode, path in tflite_files.items()}
    for mode, path in staged.items():
        export_tflite(saved_model_staging, path, mode, representative_data=x)
    if parity:
        result["parity"] = check_parity(model, x, saved_model_staging, staged)
        with open(os.path.join(saved_model_staging, "assets.extra", "parity.json"), "w",
                  encoding="utf-8") as f:
            json.dump(result["parity"], f, indent=2, sort_keys=True)
    return staged


def _publish_tflite(base_path, version_dir, saved_model_staging, staged, tflite_files,
                    manifest) -> None:
    """Writes the manifest, then the journal, then renames the TFLite files into place.

    From the journal on, a kill is undone by the next export
    (`recover_interrupted_export`); the SavedModel folder is renamed last.
    """
    with open(os.path.join(saved_model_staging, "assets.extra", METADATA_FILE),
              encoding="utf-8") as f:
        info = json.load(f)
    info.update(saved_model=version_dir,
                tflite={mode: os.path.basename(p) for mode, p in tflite_files.items()})
    staged_manifest = os.path.join(os.path.dirname(next(iter(staged.values()))),
                                   os.path.basename(manifest))
    with open(staged_manifest, "w", encoding="utf-8") as f:
        json.dump(info, f, indent=2, sort_keys=True)
    published = [*tflite_files.values(), manifest]
    atomic.write_json(os.path.join(os.fspath(base_path), JOURNAL_FILE), {
        "saved_model": version_dir,
        "files": [os.path.relpath(p, base_path) for p in published]})
    for source, target in [*zip(staged.values(), tflite_files.values(), strict=True),
                           (staged_manifest, manifest)]:
        os.chmod(source, 0o666 & ~atomic.current_umask())
        os.replace(source, target)


def _folder_size(path: str) -> int:
    return sum(
        os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(path) for f in files
    )
