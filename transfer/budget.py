"""Refuse a size the machine cannot hold in one line, before any work is done."""
from __future__ import annotations

import os

import torch
from PIL import Image

from artifier.errors import ConfigError

# Peak memory of a painting grows with its pixels: measured on the CPU with the kodim22
# photo (3:2) at 256, 512 and 768 px, 1.33, 1.59 and 2.25 GB peak RSS, so about 3 KB a
# pixel at the upper end, over about 1.2 GB for the process, torch and the weights.
BYTES_PER_PIXEL = 3_000
BASE_BYTES = 1_200_000_000


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


def needed_bytes(photo: Image.Image, size: int) -> int:
    """About what painting `photo` at long side `size` takes at its peak."""
    pixels = size * size * min(photo.size) / max(photo.size)
    return int(BASE_BYTES + BYTES_PER_PIXEL * pixels)


def check_memory(photo: Image.Image, size: int, device: torch.device) -> None:
    need, have = needed_bytes(photo, size), available_bytes(device)
    if need > have:
        raise ConfigError(
            f"--size {size} needs about {need / 1e9:,.1f} GB of memory on {device}, and "
            f"{have / 1e9:,.1f} GB are available; use a smaller --size")
