"""Images as a script holds them: a path, a PIL image or an array, each checked as the
command line checks a file."""
from __future__ import annotations

from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image

from core.errors import ImageError
from core.images import load_image, to_rgb

ImageLike = Union[str, Path, Image.Image, np.ndarray]


def as_image(image: ImageLike, max_pixels: int, what: str = "photo") -> Image.Image:
    """An RGB PIL image. Arrays are H x W (grey) or H x W x 3/4, uint8 0..255 or floats
    0..1; a non-finite value or another shape is an ImageError, not a black picture."""
    if isinstance(image, (str, Path)):
        return load_image(image, max_pixels)
    if isinstance(image, Image.Image):
        if image.width * image.height > max_pixels:
            raise ImageError(f"the {what} is too large ({image.width}x{image.height})")
        return to_rgb(image)
    if isinstance(image, np.ndarray):
        return to_rgb(Image.fromarray(_as_uint8(image, what)))
    raise ImageError(f"the {what} must be a path, a PIL image or an array, "
                     f"got {type(image).__name__}")


def _as_uint8(array: np.ndarray, what: str) -> np.ndarray:
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)) \
            or min(array.shape[:2]) == 0:
        raise ImageError(f"the {what} array must be H x W or H x W x 3 (or 4), "
                         f"got shape {array.shape}")
    if array.dtype == np.uint8:
        return array
    if not np.issubdtype(array.dtype, np.floating) and not np.issubdtype(array.dtype, np.integer):
        raise ImageError(f"the {what} array must hold numbers, got {array.dtype}")
    values = array.astype(np.float64)
    if not np.isfinite(values).all():
        raise ImageError(f"the {what} array holds a non-finite value (NaN or inf)")
    if np.issubdtype(array.dtype, np.floating):
        if values.min() < 0 or values.max() > 1:
            raise ImageError(f"a float {what} array must be in 0..1, got "
                             f"{values.min():.3g}..{values.max():.3g}")
        values = values * 255.0
    elif values.min() < 0 or values.max() > 255:
        raise ImageError(f"an integer {what} array must be in 0..255")
    return (values + 0.5).astype(np.uint8)
