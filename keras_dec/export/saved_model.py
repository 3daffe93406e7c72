"""SavedModel export in TF Serving's `<base_path>/<name>/<version>/` layout."""

from __future__ import annotations

import json
import os
import shutil
import tempfile

import keras
import tensorflow as tf

from keras_dec.backbones.scaling import has_input_scaling
from keras_dec.utils import atomic
from keras_dec.utils.validation import check_int
from keras_dec.version import __version__

METADATA_FILE = "keras_dec.json"


def next_version(model_dir: str | os.PathLike) -> int:
    """One more than the largest numeric version folder in `model_dir` (1 if none).

    Examples:
        >>> import tempfile
        >>> next_version(tempfile.mkdtemp())
        1
    """
    model_dir = os.fspath(model_dir)
    if not os.path.isdir(model_dir):
        return 1
    versions = [int(n) for n in os.listdir(model_dir) if n.isdigit()]
    return max(versions, default=0) + 1


def _serving_functions(model):
    """The `predict` and `embed` functions over a DEC model's layers."""

    def predict(features):
        logits = model.clustering.logits(model.encoder(features, training=False))
        # The argmax of the logits equals that of Q but survives int8
        # quantization better (Q's int8 steps of 1/256 create ties).
        # tf.argmax with int32 output is a TFLite builtin; keras.ops.argmax is not.
        return {
            "cluster_id": tf.argmax(logits, axis=1, output_type=tf.int32),
            "soft_assignments": tf.nn.softmax(logits, axis=-1),
        }

    def embed(features):
        return {"embedding": model.encoder(features, training=False)}

    return predict, embed


def export_saved_model(
    model,
    base_path: str | os.PathLike,
    name: str = "dec",
    version: int | None = None,
    metadata: dict | None = None,
    validate=None,
) -> str:
    """Exports a trained `DEC` model as a SavedModel that TF Serving can load.

    Writes `<base_path>/<name>/<version>/` (`saved_model.pb`, `variables/`,
    `assets.extra/keras_dec.json`). The version folder is first written under
    a temporary non-numeric name beside it and renamed into place, so a
    server polling `base_path` never sees a half-written version; an
    existing version is never overwritten.

    Signatures (input `features`, float32 `[batch, *input_shape]`):
    - `predict` (also `serving_default`): `cluster_id` (int32 `[batch]`) and
      `soft_assignments` (float32 `[batch, K]`);
    - `embed`: `embedding` (float32 `[batch, D]`).

    Args:
        model: a trained `keras_dec.DEC`.
        base_path: the TF Serving base path (its `--model_base_path` parent).
        name: str, the model name (a folder under `base_path`).
        version: int >= 1, or None for the next free version.
        metadata: dict merged into the metadata JSON (e.g. training metrics).
        validate: optional callable taking the not-yet-published folder; it
            runs before the rename, and if it raises, nothing is published.

    Returns:
        The path of the new version folder.

    Examples:
        >>> import tempfile
        >>> import numpy as np, keras
        >>> from keras_dec import DEC
        >>> encoder = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        >>> dec = DEC(encoder, n_clusters=2)
        >>> dec.set_centers(np.eye(2))
        >>> path = export_saved_model(dec, tempfile.mkdtemp(), name="dec")
        >>> os.path.basename(path)
        '1'
    """
    from keras_dec.models.dec import DEC

    if not isinstance(model, DEC):
        raise TypeError(
            f"`model` must be a keras_dec.DEC. Received: model of type {type(model).__name__}"
        )
    model._check_initialized()
    if (not isinstance(name, str) or not name.strip() or name != name.strip() or os.sep in name
            or name.startswith(".") or (os.altsep and os.altsep in name)):
        raise ValueError("`name` must be a plain folder name (no path separators, no leading "
                         f"dot or surrounding spaces). Received: name={name!r}")
    model_dir = os.path.join(os.fspath(base_path), name)
    if version is None:
        version = next_version(model_dir)
    version = check_int("version", version, 1)
    target = os.path.join(model_dir, str(version))
    if os.path.exists(target):
        raise FileExistsError(
            f"Version {version} already exists at {target!r}; versions are never "
            "overwritten. Pass another `version` or None for the next one."
        )
    os.makedirs(model_dir, exist_ok=True)

    input_shape = tuple(model.encoder.input_shape[1:])
    spec = [tf.TensorSpec((None, *input_shape), tf.float32, name="features")]
    predict, embed = _serving_functions(model)
    archive = keras.export.ExportArchive()
    # Track only what serving needs (not the training-time target snapshot).
    archive.track(model.encoder)
    archive.track(model.clustering)
    # The first endpoint also becomes `serving_default`. No endpoint is named
    # `serve`: with several signatures the TFLite converter would then keep
    # only `serving_default`.
    archive.add_endpoint("predict", predict, input_signature=spec)
    archive.add_endpoint("embed", embed, input_signature=spec)

    info = {
        "format": "keras_dec.saved_model/1",
        "n_clusters": model.n_clusters,
        "input_shape": list(input_shape),
        "embedding_dim": int(model.encoder.output_shape[-1]),
        # The graph scales raw features itself (`train_dec(scale=...)`).
        "input_scaling": has_input_scaling(model),
        "alpha": model.alpha,
        "signatures": {
            "predict": {"inputs": ["features"], "outputs": ["cluster_id", "soft_assignments"]},
            "embed": {"inputs": ["features"], "outputs": ["embedding"]},
        },
        "keras_dec_version": __version__,
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
        **(metadata or {}),
    }
    tmp = tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=model_dir)
    try:
        archive.write_out(tmp, verbose=False)
        os.makedirs(os.path.join(tmp, "assets.extra"), exist_ok=True)
        with open(os.path.join(tmp, "assets.extra", METADATA_FILE), "w", encoding="utf-8") as f:
            json.dump(info, f, indent=2, sort_keys=True)
        if validate is not None:
            validate(tmp)
        atomic.publish_dir(tmp)  # mkdtemp made it 0700: TF Serving may run as another user
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def read_metadata(saved_model_dir: str | os.PathLike) -> dict:
    """The metadata JSON written next to an exported SavedModel."""
    path = os.path.join(os.fspath(saved_model_dir), "assets.extra", METADATA_FILE)
    with open(path, encoding="utf-8") as f:
        return json.load(f)
