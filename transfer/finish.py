"""The last steps of every painting, optimised or decoded: chroma denoise, the painting's
palette or the photo's colours, and the mask's feathered border."""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from PIL import Image

from core.images import to_tensor
from transfer.colour import keep_photo_colour, match_palette
from transfer.denoise import denoise_chroma
from transfer.smooth_palette import smooth_palette_match
from transfer.targets import inside_positions


def mask_tensor(mask: Image.Image, like: torch.Tensor) -> torch.Tensor:
    """A (1, 1, H, W) mask in [0, 1] at the size of `like`; white is painted."""
    grey = to_tensor(mask.convert("RGB")).mean(1, keepdim=True).to(like.device)
    return F.interpolate(grey, size=like.shape[2:], mode="bilinear", align_corners=False)


def feather(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """Soften the mask edge so the painted region blends into the photo."""
    for _ in range(2):
        mask = F.avg_pool2d(F.pad(mask, (radius,) * 4, mode="replicate"), 2 * radius + 1, 1)
    return mask


def finish(image: torch.Tensor, photo: torch.Tensor, painting: torch.Tensor,
           cfg: dict[str, Any], mask: Image.Image | None = None,
           rotations: tuple[int, int] = (0, 0)) -> torch.Tensor:
    """`image` at the photo's full working size, finished as `cfg` says. A decoded
    image, which no colour histogram loss has pulled towards the painting's colour
    combinations, takes `rotations` = (passes, rounds): that many more palette passes in
    as many smoothed rounds (transfer/smooth_palette.py)."""
    full_mask = mask_tensor(mask, photo) if mask is not None else None
    if cfg["chroma_denoise"]:
        image = denoise_chroma(image)
    if cfg["preserve_colour"]:
        image = keep_photo_colour(image, photo)
    elif cfg["match_palette"]:
        inside = inside_positions(full_mask, photo.shape[2:])
        image = (smooth_palette_match(image, painting, inside, *rotations) if rotations[0]
                 else match_palette(image, painting, inside))
    if full_mask is not None:
        soft = feather(full_mask, max(2, cfg["size"] // 128))
        image = soft * image + (1 - soft) * photo
    return image
