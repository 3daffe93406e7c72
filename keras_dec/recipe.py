"""The training recipe: every number of the default pipeline, in one place."""

from __future__ import annotations

import dataclasses

from keras_dec.utils.validation import (
    check_choice,
    check_fraction,
    check_int,
    check_positive_float,
)

PRETRAIN_METHODS = ("end_to_end", "layerwise")
PRETRAIN_SCHEDULES = ("constant", "cosine")


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Hyper-parameters of the full DEC pipeline (pretraining, k-means, DEC).

    Defaults follow the paper (Xie et al., 2016) and, where the paper differs
    from the widely used Keras port (DEC-keras), the port, whose results
    are the reference:

    - `dims=(500, 500, 2000, 10)`: the paper's encoder for every data set.
    - `pretrain_method="end_to_end"`, `pretrain_epochs=300`,
      `pretrain_learning_rate=1.0`, `pretrain_momentum=0.9`: DEC-keras. The
      paper pretrains layer-wise (`"layerwise"`).
    - `pretrain_schedule="constant"`: DEC-keras keeps the rate fixed;
      `"cosine"` decays it to 0 over the pretraining epochs
      (`keras.optimizers.schedules.CosineDecay`).
    - `pretrain_batch_size=256`, `batch_size=256` (DEC): both.
    - `n_init=20`: k-means restarts, both.
    - `alpha=1.0`: the paper.
    - `update_interval=140`: DEC-keras for MNIST-sized data; 30 for digits.
    - `tol=0.001`: both (0.1% of points changing cluster).
    - `max_iter=20000`: DEC-keras's cap on DEC steps.
    - `RECIPES["fashion_mnist"]` is the reference recipe (this default).
      `RECIPES["fashion_mnist_quick"]` cuts `pretrain_epochs` to 50 and
      `max_iter` to 8000 so the whole pipeline fits 30 minutes on 2 CPU
      cores (`keras-dec train --recipe fashion_mnist_quick`; see
      benchmarks/README.md for what that costs in quality).
    - `learning_rate=0.01`, `momentum=0.9`: DEC's SGD, both.

    Example:

    >>> Recipe().update_interval, RECIPES["digits"].update_interval
    (140, 30)
    """

    dims: tuple[int, ...] = (500, 500, 2000, 10)
    pretrain_method: str = "end_to_end"
    pretrain_epochs: int = 300
    pretrain_learning_rate: float = 1.0
    pretrain_momentum: float = 0.9
    pretrain_schedule: str = "constant"
    pretrain_batch_size: int = 256
    batch_size: int = 256
    n_init: int = 20
    alpha: float = 1.0
    update_interval: int = 140
    tol: float = 0.001
    max_iter: int = 20000
    learning_rate: float = 0.01
    momentum: float = 0.9

    def __post_init__(self):
        for i, width in enumerate(self.dims):
            check_int(f"dims[{i}]", width, 1)
        check_choice("pretrain_method", self.pretrain_method, PRETRAIN_METHODS)
        check_choice("pretrain_schedule", self.pretrain_schedule, PRETRAIN_SCHEDULES)
        check_int("pretrain_epochs", self.pretrain_epochs, 0)
        for name in ("pretrain_batch_size", "batch_size", "n_init", "update_interval", "max_iter"):
            check_int(name, getattr(self, name), 1)
        for name in ("pretrain_learning_rate", "alpha", "learning_rate"):
            check_positive_float(name, getattr(self, name))
        for name in ("pretrain_momentum", "tol", "momentum"):
            check_fraction(name, getattr(self, name))

    def to_dict(self) -> dict:
        """The fields as JSON-ready values (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v
                for k, v in dataclasses.asdict(self).items()}

    def replace(self, **changes) -> Recipe:
        """A copy with some fields changed (None values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


RECIPES = {
    "digits": Recipe(update_interval=30),
    # The reference recipe: about 115 min per run on 2 CPU cores (TensorFlow).
    "fashion_mnist": Recipe(),
    # Cut to fit 30 minutes on 2 CPU cores: 50 pretraining epochs (about
    # 17 min) and at most 8,000 DEC steps (about 8 min). Measured against the
    # reference figures in benchmarks/README.md.
    "fashion_mnist_quick": Recipe(pretrain_epochs=50, max_iter=8000),
    "mnist": Recipe(),  # the reference recipe; not measured here
}
