"""What a painting's inputs must be before any time is spent on them, and the working
images every painting (optimised, decoded or blended) is made at."""
from __future__ import annotations

import math
from typing import Any, TypeVar

import torch
from PIL import Image

from core.errors import ConfigError
from core.images import fit_blocks, to_tensor
from core.layers import stride_of

BLOCK = 16  # every working size is a multiple of the deepest stride used
MIN_SHORT_SIDE = 48  # 3 positions at relu5_1: the smallest map a 3x3 patch fits in
Item = TypeVar("Item")


def as_list(painting: Item | list[Item]) -> list[Item]:
    """One painting, or a blend's several, as a list."""
    return painting if isinstance(painting, list) else [painting]


def working_set(photo: Image.Image, painting: Image.Image | list[Image.Image], long_side: int,
                device: torch.device) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The photo and its painting, or a blend's paintings, at a common long side, sides
    multiples of the block size."""
    return (to_tensor(fit_blocks(photo, long_side, BLOCK)).to(device),
            [to_tensor(fit_blocks(p, long_side, BLOCK)).to(device) for p in as_list(painting)])


def working_pair(photo: Image.Image, painting: Image.Image, long_side: int,
                 device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """`working_set` for one painting."""
    photo_t, (painting_t,) = working_set(photo, painting, long_side, device)
    return photo_t, painting_t


def smallest_long_side(*images: Image.Image) -> int:
    """The least long side at which every image keeps a short side of MIN_SHORT_SIDE."""
    return max(math.ceil(MIN_SHORT_SIDE * max(im.size) / min(im.size) / BLOCK) * BLOCK
               for im in images)


def _check_layers(cfg: dict[str, Any]) -> None:
    style = cfg["style_layers"]
    if len(cfg["style_layer_weights"]) != len(style):
        raise ConfigError("transfer.style_layer_weights needs one weight per style layer")
    deepest = stride_of(style[0])
    if any(stride_of(layer) > deepest for layer in [*style, *cfg["hist_layers"]]):
        raise ConfigError("the first style layer is the match layer and must be the deepest")
    stride = max(stride_of(layer) for layer in [*style, *cfg["hist_layers"], cfg["content_layer"]])
    if cfg["border_pad"] % stride:
        raise ConfigError(f"transfer.border_pad must be a multiple of {stride}, the deepest "
                          "stride of the loss layers")


# How far a mask's aspect ratio may differ from the photo's before it is refused: more
# would move the painted region visibly off what the user drew.
MASK_ASPECT_TOLERANCE = 0.02


def check_settings(photo: Image.Image, painting: Image.Image | list[Image.Image],
                   cfg: dict[str, Any], mask: Image.Image | None = None) -> int:
    """Refuse settings that cannot work, before any time is spent; returns the size floor.
    A list of paintings is a blend, which takes each painting as painted."""
    _check_layers(cfg)
    paintings = as_list(painting)
    if len(paintings) > 1 and cfg["orientations"] > 1:
        raise ConfigError("a blend takes each painting as painted; set "
                          "transfer.orientations = 1")
    floor = smallest_long_side(photo, *paintings)
    if cfg["size"] < floor:
        raise ConfigError(f"size {cfg['size']} is too small for these images; use at least {floor}")
    if mask is not None:
        check_mask(mask, photo)
        if cfg["size"] > cfg["tile"]:
            raise ConfigError(f"a mask can be painted at sizes up to transfer.tile "
                              f"({cfg['tile']} px) only; use a smaller --size")
    return floor


def check_mask(mask: Image.Image, photo: Image.Image) -> None:
    """A mask must mark something to paint and have the photo's shape: a black mask would
    paint nothing, and another shape would be stretched over the photo unnoticed."""
    if mask.convert("L").getextrema()[1] < 128:
        raise ConfigError("the mask is black everywhere, so it would paint nothing; paint "
                          "white where the painting should go")
    mask_aspect, photo_aspect = mask.width / mask.height, photo.width / photo.height
    if abs(mask_aspect / photo_aspect - 1) > MASK_ASPECT_TOLERANCE:
        raise ConfigError(f"the mask is {mask.width}x{mask.height} and the photo "
                          f"{photo.width}x{photo.height}: another shape (aspect "
                          f"{mask_aspect:.2f} against {photo_aspect:.2f}); make the mask the "
                          "photo's shape")
