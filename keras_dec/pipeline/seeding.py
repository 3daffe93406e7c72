"""Every seeded draw of a run, keyed by (seed, stream, stage, epoch) in one table.

A draw that depends only on its key, never on what ran before it in the
process, makes a run that was killed and resumed at an epoch boundary see
exactly the sample order and the random images an uninterrupted run sees.
"""

from __future__ import annotations

import numpy as np

# The key of each stream of draws. The numbers are part of a run's results:
# changing one changes every seeded run that uses it.
STREAMS = {
    ("order", "pretrain"): 0,  # the sample order of a pretraining epoch
    ("order", "dec"): 1,  # the sample order of a DEC epoch
    ("augment", "pretrain"): 2,  # the random images of a pretraining epoch
    ("augment", "dec"): 3,  # the augmentation layer's seed in the DEC stage
}


def draw_key(seed: int | None, kind: str, stage: str, epoch: int = 0) -> list[int] | None:
    """The `numpy.random.default_rng` key of one draw, or None (unseeded) without a seed.

    Examples:
        >>> draw_key(7, "order", "dec", 3)
        [7, 1, 3]
    """
    if (kind, stage) not in STREAMS:
        raise ValueError(f"No seeded draw is named ({kind!r}, {stage!r}). Known: "
                         f"{sorted(STREAMS)}")
    if seed is None:
        return None
    return [seed, STREAMS[kind, stage], epoch]


def epoch_order(n: int, seed: int | None, stage: str, epoch: int) -> np.ndarray:
    """The sample order of one epoch of `stage` ("pretrain" or "dec").

    Examples:
        >>> np.array_equal(epoch_order(5, 0, "dec", 2), epoch_order(5, 0, "dec", 2))
        True
    """
    return np.random.default_rng(draw_key(seed, "order", stage, epoch)).permutation(n)


def stage_seed(seed: int | None, stage: str, epoch: int = 0) -> int | None:
    """An int seed for a stage's random layers (augmentation), or None without a seed.

    Examples:
        >>> stage_seed(None, "pretrain") is None
        True
    """
    key = draw_key(seed, "augment", stage, epoch)
    if key is None:
        return None
    return int(np.random.default_rng(key).integers(2**31 - 2))
