"""`artifier transfer`: load, paint with progress, write the result, the triptych and the
provenance map. `paint_pair` is what the CLI and the studio share."""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch
from PIL import Image

from artifier.backbone import Backbone
from artifier.layers import stride_of
from artifier.device import pick_device
from artifier.files import refuse_overwrite
from artifier.images import check_output, fit_long_side, load_image, save_png, to_pil
from artifier.progress import progress_bar
from artifier.session import backbone_from_config
from index_build.sources import open_located, parquet_row
from transfer.budget import check_memory
from transfer.clock import painting_clock
from transfer.engine import (BLOCK, Progress, check_settings, paint, resolve_schedule,
                             working_pair)
from transfer.provenance import provenance_map, recording_collage, source_boxes
from transfer.strength import resolve_strength
from transfer.triptych import triptych as make_triptych


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
    if tcfg["strength"] == "auto":
        tcfg = resolve_strength(tcfg, backbone, *working_pair(photo, painting, tcfg["size"],
                                                              device))
    found: list[torch.Tensor] = []
    image = to_pil(paint(photo, painting, backbone, tcfg, device, progress, mask,
                         recording_collage(found)))
    boxes = None
    if found:
        working = fit_long_side(painting, tcfg["size"], BLOCK)
        boxes = source_boxes(found[0], (working.height, working.width),
                             stride_of(tcfg["collage_layer"]))
    return Painted(image, tcfg, boxes)


def result_settings(photo: str, style: str, mask: Optional[str], schedule: str,
                    cfg: dict[str, Any], device: torch.device,
                    tcfg: dict[str, Any]) -> dict[str, Any]:
    """What a result PNG says of how it was made."""
    return {"artifier": {"photo": photo, "style": style, "mask": mask, "schedule": schedule,
                         "backbone": cfg["backbone"]["name"], "device": str(device),
                         "transfer": tcfg}}


def run_transfer(photo: Path, style: Optional[Path], output: Optional[Path], triptych: bool,
                 cfg: dict[str, Any], index: Path, pick: int, mask: Optional[Path] = None,
                 provenance: Optional[Path] = None) -> Path:
    """Paint `photo` and write a PNG whose text chunks hold the settings used."""
    max_pixels = cfg["images"]["max_pixels"]
    tcfg = cfg["transfer"]
    outputs = {"output": output, "provenance map": provenance}
    refuse_overwrite(outputs, {"photo": photo, "painting": style, "mask": mask})
    for path in (output, provenance):
        if path:
            check_output(path)
    photo_img = load_image(photo, max_pixels, tcfg["size"])
    check_memory(photo_img, tcfg, pick_device(cfg["backbone"]["device"]))
    mask_img = load_image(mask, max_pixels) if mask else None
    if style is None:
        from retrieval.search import best_match  # FAISS is loaded only when retrieval is used

        match = best_match(photo, index, pick, cfg)
        style, style_name = Path(match.path), match.name
        refuse_overwrite(outputs, {"painting": style})
    else:
        style_name = style.stem
    painting_img = open_located(style, max_pixels)
    check_settings(photo_img, painting_img, tcfg, mask_img)
    if output is None:
        row = parquet_row(style)
        stem = f"{row[0].stem}-{row[1]}" if row else style.stem
        output = check_output(Path("out") / f"{photo.stem}-{stem}.png")
    backbone, device = backbone_from_config(cfg)
    schedule, scales, iterations = resolve_schedule(tcfg, device)
    if tcfg["strength"] == "auto":
        tcfg = resolve_strength(tcfg, backbone, *working_pair(photo_img, painting_img,
                                                              tcfg["size"], device))
        print(f"strength {tcfg['strength']:.2f} (auto)", file=sys.stderr)
    with progress_bar("it") as bar:
        task = bar.add_task("painting", total=sum(iterations), status="", left=None)
        seconds_left = painting_clock(scales, iterations)

        def on_step(step: int, total: int, values: dict[str, float], _image: torch.Tensor) -> None:
            shown = " ".join(f"{k} {v:.3g}" for k, v in values.items())
            bar.update(task, completed=step, status=shown, left=seconds_left(step))

        painted = paint_pair(photo_img, painting_img, backbone, device, tcfg, on_step, mask_img)
    image = (make_triptych(photo_img, painting_img, painted.image,
                           ("photo", style_name, "Artifier")) if triptych else painted.image)
    settings = result_settings(str(photo), str(style), str(mask) if mask else None, schedule,
                               cfg, device, painted.cfg)
    if provenance:
        if painted.boxes is None:
            print("note: strength 0 paints nothing, so there is no provenance map",
                  file=sys.stderr)
        else:
            save_png(provenance_map(painted.image, painting_img, painted.boxes), provenance,
                     settings)
    return save_png(image, output, settings)
