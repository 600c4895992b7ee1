"""One painting as the studio runs it: progress and previews into its job, then the
result's files and its gallery row."""
from __future__ import annotations

import io
import json
import time
from itertools import accumulate
from typing import Any

import torch
from PIL import Image

from core.images import fit_long_side, save_png, to_pil
from studio.gallery import add_result, result_dir
from studio.jobs import Job
from studio.state import Studio
from transfer.engine import resolve_schedule, schedule_start
from transfer.instant import instant_paint
from transfer.provenance import blend_map, provenance_map
from transfer.run import paint_pair, result_settings


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# A step costs its pixels plus about this many more: the fixed part of a step. Fit on
# this 2-core CPU, where a fast-schedule step took 0.16 s at 64 px, 0.27 s at 128 px and
# 1.0 s at 256 px (pixels alone would make the time left 2.4 times too long early on).
STEP_OVERHEAD_PIXELS = 8192


def work_done(scales: list[float], iterations: list[int], size: int) -> list[float]:
    """The share of the work finished after each step."""
    costs = [(scale * size) ** 2 + STEP_OVERHEAD_PIXELS
             for scale, count in zip(scales, iterations) for _ in range(count)]
    total = sum(costs)
    return [done / total for done in accumulate(costs)]


def first_look(photo: Image.Image, painting: Image.Image | list[Image.Image], studio: Studio,
               tcfg: dict[str, Any]) -> Image.Image:
    """The decoded swap at the full size: the first look at a painting, in seconds on a
    CPU, which the optimisation's previews then refresh."""
    return to_pil(instant_paint(photo, painting, studio.backbone, tcfg, studio.device)[0])


def paint_job(studio: Studio, job: Job, photo: tuple[Image.Image, str],
              paintings: list[tuple[Image.Image, str]], cfg: dict[str, Any]) -> None:
    """Paint the photo with the painting, or a blend of the paintings, each given as
    (image, name), reporting to `job` (a preview at the start and every few seconds),
    and keep the result in the gallery."""
    tcfg = cfg["transfer"]
    photo_img, photo_name = photo
    images, names = [image for image, _ in paintings], [name for _, name in paintings]
    schedule, scales, iterations = resolve_schedule(tcfg, studio.device)
    done = work_done(scales, iterations, tcfg["size"])
    every = cfg["studio"]["preview_seconds"]
    last_preview = float("-inf")

    def progress(step: int, total: int, values: dict[str, float], image: torch.Tensor) -> None:
        nonlocal last_preview
        preview = None
        if step == 0 or time.monotonic() - last_preview >= every:
            preview, last_preview = png_bytes(to_pil(image)), time.monotonic()
        job.report(step, total, done[step - 1] if step else 0.0, preview)

    start = time.monotonic()
    if schedule_start(tcfg, studio.device) == "collage":
        # A swap start is that look itself, reported as the optimisation's step 0.
        job.report(0, 0, 0.0, png_bytes(first_look(photo_img, images, studio, tcfg)))
    painted = paint_pair(photo_img, images, studio.backbone, studio.device, tcfg, progress)
    job.report(job.total, job.total, 1.0, png_bytes(painted.image))
    result_id = job.id
    folder = result_dir(studio.results, result_id)
    folder.mkdir(parents=True)
    settings = result_settings(photo_name, names if len(names) > 1 else names[0], None,
                               schedule, cfg, studio.device, painted.cfg)
    save_png(painted.image, folder / "result.png", settings)
    fit_long_side(photo_img, tcfg["size"]).save(folder / "photo.png")
    for number, image in enumerate(images):
        # A blend's paintings are painting.png, painting-1.png, ... in the blend's order.
        fit_long_side(image, max(tcfg["size"], 512)).save(
            folder / ("painting.png" if number == 0 else f"painting-{number}.png"))
    boxes = painted.boxes.round(5).tolist() if painted.boxes is not None else None
    blend = ({"paintings": names, "painting_of": painted.painting_of.tolist(),
              "shares": painted.shares} if painted.painting_of is not None else {})
    (folder / "provenance.json").write_text(json.dumps({"boxes": boxes} | blend))
    if painted.boxes is not None:
        tinted = (blend_map(painted.image, images, painted.painting_of) if blend
                  else provenance_map(painted.image, images[0], painted.boxes))
        save_png(tinted, folder / "provenance.png", settings)
    add_result(studio.results, result_id, " + ".join(names), time.monotonic() - start, settings)
    job.result = result_id
