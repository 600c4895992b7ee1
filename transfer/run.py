"""A checked pair painted, with where each piece came from, and what its PNG says of how
it was made: what the Python API (and through it the CLI) and the studio share."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
import torch
from PIL import Image

from core.backbone import Backbone
from core.images import fit_long_side, to_pil
from core.layers import stride_of
from transfer.engine import BLOCK, INSTANT, Progress, paint, schedule_start, working_pair
from transfer.instant import DECODED, instant_paint, swap_start
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


def paint_pair(photo: Image.Image, painting: Image.Image, backbone: Backbone,
               device: torch.device, tcfg: dict[str, Any], progress: Progress | None = None,
               mask: Optional[Image.Image] = None) -> Painted:
    """Paint a checked pair and keep where each piece came from."""
    if tcfg["schedule"] == INSTANT:
        return _instant_pair(photo, painting, backbone, device, tcfg, progress, mask)
    if tcfg["strength"] == "auto":
        tcfg = resolve_strength(tcfg, backbone, *working_pair(photo, painting, tcfg["size"],
                                                              device))
    found: list[torch.Tensor] = []
    swapped = schedule_start(tcfg, device) == "swap"
    start = recording_collage(found, swap_start(tcfg)) if swapped else recording_collage(found)
    image = to_pil(paint(photo, painting, backbone, tcfg, device, progress, mask, start))
    boxes = None
    if found:
        working = fit_long_side(painting, tcfg["size"], BLOCK)
        boxes = source_boxes(found[0], (working.height, working.width),
                             stride_of(DECODED if swapped else tcfg["collage_layer"]))
    return Painted(image, tcfg, boxes)


def result_settings(photo: str, style: str, mask: Optional[str], schedule: str,
                    cfg: dict[str, Any], device: torch.device,
                    tcfg: dict[str, Any]) -> dict[str, Any]:
    """What a result PNG says of how it was made."""
    return {"artifier": {"photo": photo, "style": style, "mask": mask, "schedule": schedule,
                         "backbone": cfg["backbone"]["name"], "device": str(device),
                         "transfer": tcfg}}


def _instant_pair(photo: Image.Image, painting: Image.Image, backbone: Backbone,
                  device: torch.device, tcfg: dict[str, Any], progress: Progress | None,
                  mask: Optional[Image.Image]) -> Painted:
    """The decoded swap as the result: its correspondence is the provenance."""
    image, positions, strength = instant_paint(photo, painting, backbone, tcfg, device, mask)
    if progress:
        progress(1, 1, {}, image)
    working = fit_long_side(painting, tcfg["size"], BLOCK)
    boxes = (source_boxes(positions, (working.height, working.width), stride_of(DECODED))
             if strength > 0 else None)
    return Painted(to_pil(image), tcfg | {"strength": strength}, boxes)
