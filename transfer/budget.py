"""Refuse a size the machine cannot hold in one line, before any work is done."""
from __future__ import annotations

import os
from typing import Any

import torch
from PIL import Image

from core.errors import ConfigError
from transfer import lbfgs
from transfer.engine import schedule_optimiser
from transfer.tiled import HALO

# Peak memory grows with the pixels of the full-size maps (the image, Adam's moments, the
# targets) and with those of one step's activations, which tiles bound (transfer/tiled.py).
# Measured on the CPU with the cat photo (3:2), `bench/transfer_speed.py --sizes`, on
# 2026-12-06, with freed buffers kept for reuse (core/allocator.py): 2.2 and 5.2 GB
# peak RSS at 512 and 1024 px in whole steps; 10.9 GB at 2048 in tiles of 1024. The same
# 512 px painting peaked anywhere from 2.0 to 2.3 GB from one process to the next (same
# code, same photo). On an AMD EPYC with AVX-512 (2026-12-06, tests/test_budget.py's two
# steps) the same painting peaked anywhere from 1.65 to 2.67 GB in 12 processes. So the
# estimate errs high: 7 KB a pixel over 1.65 GB for the process, torch and the weights;
# at 2048 px it takes tiles of 1024 x 1024 where the cat's are 688 x 1024. That gives
# 2.9 / 6.5 / 13.0 GB. tests/test_budget.py holds a 512 px painting's peak under it.
STEP_BYTES_PER_PIXEL = 7_000
MAPS_BYTES_PER_PIXEL = 1_000
BASE_BYTES = 1_650_000_000
# A blend keeps every painting's targets (Grams, sorted histograms, colours) at each scale.
# Measured on an AMD EPYC (2026-12-07), the cat with 1, 4 and 8 of bench/quality.py's
# paintings, two steps a scale, peak RSS: 1.60 and 2.02 GB at 512 px (quick) for 1 and
# 8 paintings; 4.34, 4.69 and 5.81 GB at 1024 (quick), 3.96 and 5.82 GB at 1024 (fast):
# 200 to 250 bytes per pixel of size^2 per painting past the first. 300 errs high.
BLEND_BYTES_PER_PIXEL = 300


def available_bytes(device: torch.device) -> int:
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def needed_bytes(photo: Image.Image, cfg: dict[str, Any], optimiser: str = "adam",
                 paintings: int = 1) -> int:
    """About what painting `photo` at long side cfg["size"] with `paintings` paintings
    (a blend) takes at its peak; L-BFGS keeps its curvature pairs on top (a gigabyte at
    2048 px)."""
    size, tile = cfg["size"], cfg["tile"]
    short = size * min(photo.size) / max(photo.size)
    history = lbfgs.BYTES_PER_PIXEL * size * short if optimiser == "lbfgs" else 0
    kept = history + BLEND_BYTES_PER_PIXEL * size * size * (paintings - 1)
    if size <= tile:
        return int(BASE_BYTES + STEP_BYTES_PER_PIXEL * size * short + kept)
    window = (tile + 2 * HALO) * (min(tile, short) + 2 * HALO)
    return int(BASE_BYTES + MAPS_BYTES_PER_PIXEL * size * short + STEP_BYTES_PER_PIXEL * window
               + kept)


def check_memory(photo: Image.Image, cfg: dict[str, Any], device: torch.device,
                 paintings: int) -> None:
    """Refuse a size whose painting with `paintings` paintings would not fit."""
    need = needed_bytes(photo, cfg, schedule_optimiser(cfg, device), paintings)
    have = available_bytes(device)
    if need > have:
        raise ConfigError(
            f"--size {cfg['size']} needs about {need / 1e9:,.1f} GB of memory on {device}, "
            f"and {have / 1e9:,.1f} GB are available; use a smaller --size"
            + (" or fewer paintings" if paintings > 1 else ""))
