"""A checked pair painted, with where each piece came from, and what its PNG says of how
it was made: what the Python API (and through it the CLI) and the studio share."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
import torch
from PIL import Image

from core.backbone import Backbone
from core.images import rounded_size, to_pil
from core.layers import stride_of
from transfer.blend import piece_shares
from transfer.checks import BLOCK, as_list, working_pair
from transfer.engine import INSTANT, Progress, paint, schedule_start, start_maker
from transfer.finish import mask_tensor
from transfer.instant import DECODED, instant_paint
from transfer.provenance import recording_collage, source_boxes
from transfer.strength import resolve_strength


@dataclass
class Painted:
    image: Image.Image
    # The transfer settings as used: "auto" strength resolved to its number.
    cfg: dict[str, Any]
    # For each result block, the painting box (x0, y0, x1, y1 in 0..1) it was laid from;
    # None when nothing was painted (strength 0).
    boxes: Optional[np.ndarray]
    # A blend's: for each result block, which of its paintings it came from, and the share
    # of the pieces each gave; None and [1.0] for one painting.
    painting_of: Optional[np.ndarray] = None
    shares: list[float] = field(default_factory=lambda: [1.0])


def paint_pair(photo: Image.Image, painting: Image.Image | list[Image.Image],
               backbone: Backbone, device: torch.device, tcfg: dict[str, Any],
               progress: Progress | None = None, mask: Optional[Image.Image] = None) -> Painted:
    """Paint a checked pair, or a photo with a blend's list of paintings, and keep where
    each piece came from."""
    if tcfg["schedule"] == INSTANT:
        return _instant_pair(photo, painting, backbone, device, tcfg, progress, mask)
    if tcfg["strength"] == "auto":
        tcfg = resolve_strength(tcfg, backbone, *working_pair(photo, as_list(painting)[0],
                                                              tcfg["size"], device))
    found: list[torch.Tensor] = []
    start = recording_collage(found, start_maker(tcfg, device))
    image = to_pil(paint(photo, painting, backbone, tcfg, device, progress, mask, start))
    if not found:
        return Painted(image, tcfg, None)
    return _provenance(image, tcfg, painting, found[0],
                       stride_of(DECODED if schedule_start(tcfg, device) == "swap"
                                 else tcfg["collage_layer"]), mask)


def _provenance(image: Image.Image, tcfg: dict[str, Any],
                painting: Image.Image | list[Image.Image], positions: torch.Tensor,
                stride: int, mask: Optional[Image.Image]) -> Painted:
    """The result with its boxes, and a blend's painting per block and shares (of what
    the mask paints)."""
    paintings = as_list(painting)
    # The working paintings' (height, width), as fit_blocks makes them.
    sizes = [rounded_size(*p.size, tcfg["size"], BLOCK)[::-1] for p in paintings]
    if len(paintings) == 1:
        return Painted(image, tcfg, source_boxes(positions, sizes[0], stride))
    return Painted(image, tcfg, source_boxes(positions, sizes, stride),
                   positions[..., 0].cpu().numpy(),
                   piece_shares(positions, len(paintings),
                                mask_tensor(mask, torch.zeros(1, 1, *positions.shape[:2]))
                                if mask is not None else None))


def result_settings(photo: str, style: str, mask: Optional[str], schedule: str,
                    cfg: dict[str, Any], device: torch.device,
                    tcfg: dict[str, Any]) -> dict[str, Any]:
    """What a result PNG says of how it was made."""
    return {"artifier": {"photo": photo, "style": style, "mask": mask, "schedule": schedule,
                         "backbone": cfg["backbone"]["name"], "device": str(device),
                         "transfer": tcfg}}


def _instant_pair(photo: Image.Image, painting: Image.Image | list[Image.Image],
                  backbone: Backbone, device: torch.device, tcfg: dict[str, Any],
                  progress: Progress | None, mask: Optional[Image.Image]) -> Painted:
    """The decoded swap as the result: its correspondence is the provenance."""
    image, positions, strength = instant_paint(photo, painting, backbone, tcfg, device, mask)
    if progress:
        progress(1, 1, {}, image)
    used = tcfg | {"strength": strength}
    if strength == 0:
        return Painted(to_pil(image), used, None)
    return _provenance(to_pil(image), used, painting, positions, stride_of(DECODED), mask)
