"""Choosing the number of clusters: the paper's generalizability, beside label-free indices."""

from __future__ import annotations

from collections.abc import Iterable

import keras
import numpy as np
from numpy.typing import ArrayLike

from keras_dec.backend import enable_determinism
from keras_dec.datasets.shard_stream import ShardStream
from keras_dec.metrics import kl_to_target, label_free_indices
from keras_dec.pipeline.builders import required_image_shape
from keras_dec.pipeline.data import prepare_training_data
from keras_dec.pipeline.epochs import epoch_runner, resolve_device_loop
from keras_dec.pipeline.run_folder import Checkpoints
from keras_dec.pipeline.single_run import clustering_stages
from keras_dec.pipeline.stages import Pretrain, Run, run_stages
from keras_dec.recipe import Recipe, recipe_for
from keras_dec.utils.validation import check_fraction, check_int

CRITERIA = ("generalizability", "silhouette", "calinski_harabasz")


def select_n_clusters(
    x: ArrayLike,
    candidates: Iterable[int],
    recipe: Recipe | None = None,
    validation_fraction: float = 0.2,
    seed: int | None = 0,
    verbose: int = 0,
    device_loop: bool | None = None,
    data_source: str | None = None,
) -> dict:
    """Trains DEC for each candidate K on one pretrained autoencoder; suggests K.

    The autoencoder is pretrained once, on the training split; for each K,
    k-means and DEC start again from those same weights. Three criteria:

    - **generalizability** G = L_train / L_validation (Xie et al., 2016,
      section 5.5). The split: a seeded random `validation_fraction` of the
      rows is held out from pretraining and DEC. The loss: DEC's, the mean
      KL(P || Q) per point. P on each split comes from that split's own Q
      (its frequencies f_j), exactly as DEC builds P on the training data,
      so L_validation is what DEC's objective says about points it never
      trained on. G near 1 means the clustering generalises; the paper
      reads the K before G's sharpest drop as the number of clusters
      (between 9 and 10 on MNIST, where 4s and 9s merge).
    - **silhouette** and **Calinski-Harabasz** of DEC's clusters in DEC's
      embedding of all rows (`label_free_indices`): the largest is suggested.

    Args:
        x: float array `(n_samples, n_features, ...)`, scaled; flattened.
        candidates: iterable of at least two ints >= 2.
        recipe: `Recipe`; defaults to `recipe_for` the training split's shape.
        validation_fraction: float in (0, 1), rows held out for L_validation;
            both sides of the split need at least max(candidates) rows.
        seed: int or None; fixes the split and every random choice.
        verbose: int, 1 shows Keras progress bars.
        device_loop: as `train_dec`'s.
        data_source: str or None, as `train_dec`'s: names a built-in image
            data set whose flat rows the conv backbone or augmentation take.

    Returns:
        `{"table": [one dict per K: n_clusters, generalizability, loss_train,
        loss_validation, silhouette, calinski_harabasz, dec_iterations],
        "suggested": {criterion: K}, "recipe": ..., "validation_fraction": ...}`.

    Examples:
        >>> from keras_dec.datasets import load_digits
        >>> x = load_digits()[0][:300]
        >>> result = select_n_clusters(x, [4, 6], Recipe(dims=(16, 4), pretrain_epochs=2,
        ...                            max_iter=10))
        >>> [row["n_clusters"] for row in result["table"]], sorted(result["suggested"])
        ([4, 6], ['calinski_harabasz', 'generalizability', 'silhouette'])
    """
    candidates = sorted({check_int("candidates[i]", int(k) if isinstance(k, np.integer) else k, 2)
                         for k in candidates})
    if len(candidates) < 2:
        raise ValueError(f"`candidates` must hold at least two different K. Received: "
                         f"candidates={candidates}")
    validation_fraction = check_fraction("validation_fraction", validation_fraction)
    if not 0 < validation_fraction < 1:
        raise ValueError("`validation_fraction` must be strictly between 0 and 1. Received: "
                         f"validation_fraction={validation_fraction}")
    if isinstance(x, ShardStream):
        raise TypeError("`select_n_clusters` needs the data in memory (it splits the rows). "
                        "Received: a ShardStream; pass a sample of it, e.g. "
                        "stream.sample(100_000, 0)[1]")
    data = prepare_training_data(x, 2 * max(candidates))
    x = data.x
    order = np.random.default_rng(seed).permutation(len(x))
    n_validation = int(round(validation_fraction * len(x)))
    if not max(candidates) <= n_validation <= len(x) - max(candidates):
        raise ValueError(
            f"`validation_fraction` must leave at least max(candidates)={max(candidates)} rows "
            f"on each side of the split of {len(x)} rows. Received: "
            f"validation_fraction={validation_fraction} ({n_validation} rows held out)"
        )
    validation, train = data.subset(order[:n_validation]), data.subset(order[n_validation:])
    x_validation, x_train = validation.x, train.x
    recipe = recipe or recipe_for(*train.shape)
    image_shape = required_image_shape(recipe, train, data_source)
    device_loop = resolve_device_loop(device_loop, train)
    if seed is not None:
        keras.utils.set_random_seed(seed)
        enable_determinism()

    def run(n_clusters, models=None):
        return Run(train, recipe, n_clusters, seed, Checkpoints(None, {}),
                   epoch_runner(device_loop, train, seed, verbose), verbose=verbose,
                   image_shape=image_shape, models=dict(models or {}))

    pretraining = run(max(candidates))
    run_stages([Pretrain()], pretraining)
    autoencoder = pretraining.models["autoencoder"]
    pretrained = autoencoder.get_weights()
    table = []
    for k in candidates:
        autoencoder.set_weights(pretrained)  # DEC trains the shared encoder layers
        clustering = run(k, {"autoencoder": autoencoder})
        run_stages(clustering_stages(recipe), clustering)
        dec = clustering.models["dec"]
        loss_train = kl_to_target(dec.predict(x_train, verbose=0, check_input=False))
        loss_validation = kl_to_target(dec.predict(x_validation, verbose=0, check_input=False))
        indices = label_free_indices(dec.embed(x, check_input=False),
                                     dec.predict_clusters(x, check_input=False), seed or 0)
        table.append({
            "n_clusters": k,
            "generalizability": loss_train / loss_validation if loss_validation > 0 else None,
            "loss_train": loss_train,
            "loss_validation": loss_validation,
            **indices,
            "dec_iterations": dec.n_iter_,
        })
    return {"table": table, "suggested": suggest(table), "recipe": recipe.to_dict(),
            "validation_fraction": validation_fraction, "seed": seed}


def suggest(table: list[dict]) -> dict:
    """Each criterion's K: before G's largest drop; the largest silhouette and CH.

    Examples:
        >>> suggest([{"n_clusters": 3, "generalizability": 0.9, "silhouette": 0.2,
        ...           "calinski_harabasz": 50.0},
        ...          {"n_clusters": 4, "generalizability": 0.95, "silhouette": 0.5,
        ...           "calinski_harabasz": 80.0},
        ...          {"n_clusters": 5, "generalizability": 0.6, "silhouette": 0.4,
        ...           "calinski_harabasz": 70.0}])
        {'generalizability': 4, 'silhouette': 4, 'calinski_harabasz': 4}
    """
    ks = [row["n_clusters"] for row in table]
    out = {}
    g = [row["generalizability"] for row in table]
    if None not in g:
        drops = [g[i] - g[i + 1] for i in range(len(g) - 1)]
        out["generalizability"] = ks[int(np.argmax(drops))]
    for name in ("silhouette", "calinski_harabasz"):
        values = [row[name] for row in table]
        if None not in values:
            out[name] = ks[int(np.argmax(values))]
    return out
