"""`artifier transfer`: load, paint with progress, write the result or the triptych."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

from artifier.device import pick_device
from artifier.images import check_output, load_image, save_png, to_pil
from artifier.progress import progress_bar
from artifier.session import backbone_from_config
from transfer.budget import check_memory
from transfer.engine import check_settings, paint, resolve_schedule, working_pair
from transfer.strength import resolve_strength
from transfer.triptych import triptych as make_triptych


def run_transfer(photo: Path, style: Optional[Path], output: Optional[Path], triptych: bool,
                 cfg: dict[str, Any], index: Path, pick: int, mask: Optional[Path] = None) -> Path:
    """Paint `photo` and write a PNG whose text chunks hold the settings used."""
    max_pixels = cfg["images"]["max_pixels"]
    tcfg = cfg["transfer"]
    if output:
        check_output(output)
    photo_img = load_image(photo, max_pixels)
    check_memory(photo_img, tcfg, pick_device(cfg["backbone"]["device"]))
    mask_img = load_image(mask, max_pixels) if mask else None
    if style is None:
        from retrieval.search import best_match  # FAISS is loaded only when retrieval is used

        style, style_name = best_match(photo, index, pick, cfg)
    else:
        style_name = style.stem
    painting_img = load_image(style, max_pixels)
    check_settings(photo_img, painting_img, tcfg, mask is not None)
    if output is None:
        output = check_output(Path("out") / f"{photo.stem}-{style.stem}.png")
    backbone, device = backbone_from_config(cfg)
    schedule, _, iterations = resolve_schedule(tcfg, device)
    if tcfg["strength"] == "auto":
        tcfg = resolve_strength(tcfg, backbone, *working_pair(photo_img, painting_img,
                                                              tcfg["size"], device))
        print(f"strength {tcfg['strength']:.2f} (auto)", file=sys.stderr)
    with progress_bar("it") as bar:
        task = bar.add_task("painting", total=sum(iterations), status="")

        def on_step(step: int, total: int, values: dict[str, float]) -> None:
            shown = " ".join(f"{k} {v:.3g}" for k, v in values.items())
            bar.update(task, completed=step, status=shown)

        result = to_pil(paint(photo_img, painting_img, backbone, tcfg, device, on_step, mask_img))
    image = (make_triptych(photo_img, painting_img, result, ("photo", style_name, "Artifier"))
             if triptych else result)
    settings = {"artifier": {"photo": str(photo), "style": str(style),
                             "mask": str(mask) if mask else None, "schedule": schedule,
                             "backbone": cfg["backbone"]["name"], "device": str(device),
                             "transfer": tcfg}}
    return save_png(image, output, settings)
