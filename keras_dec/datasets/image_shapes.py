"""The per-sample image shape of a data set, for augmentation and figures."""

from __future__ import annotations

# Per-sample image shapes of the built-in data sets, whose loaders flatten them.
IMAGE_SHAPES = {"digits": (8, 8), "fashion_mnist": (28, 28), "mnist": (28, 28)}


def image_shape_of(input_shape, data_source: str | None = None) -> tuple[int, ...] | None:
    """`(height, width)` or `(height, width, channels)` of the data, or None if not images.

    `input_shape` is one sample's shape as given, before flattening: 2-D or
    3-D (1 or 3 channels) means images. Flat rows are images only when
    `data_source` names a built-in image data set (`IMAGE_SHAPES`).

    Examples:
        >>> image_shape_of([28, 28, 1]), image_shape_of([64], "digits"), image_shape_of([13])
        ((28, 28, 1), (8, 8), None)
    """
    shape = list(input_shape or [])
    if len(shape) >= 2:
        return tuple(shape[:3]) if len(shape) == 3 and shape[2] in (1, 3) else tuple(shape[:2])
    return IMAGE_SHAPES.get(data_source)
