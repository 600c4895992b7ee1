"""Decode artworks beside the network and turn them into relu5_3 maps, batched by shape."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from core.backbone import Backbone
from core.errors import ImageError
from core.images import fit_long_side, to_tensor
from core.precision import network_precision
from index_build.sources import open_located

BLOCK = 16  # relu5_x stride
MIN_SIDE = 3 * BLOCK  # a 3x3 patch needs a 3x3 map


def index_input(img: Image.Image, size: int, name: str | Path) -> torch.Tensor:
    """The 3xHxW network input for an artwork or a query photo: both must be sized alike.

    Raises ImageError when the image is too narrow to hold one 3x3 patch at `size`.
    """
    small = fit_long_side(img, size, BLOCK)
    if min(small.size) < MIN_SIDE:
        raise ImageError(f"{name}: too narrow ({img.width}x{img.height}) for 3x3 patches at "
                         f"{size} px")
    return to_tensor(small)[0]


class ArtworkImages(Dataset):
    """(id, 3xHxW tensor or None, error or None, original width, height) per artwork."""

    def __init__(self, root: Path, rows: list[tuple[int, str]], size: int, max_pixels: int):
        self.root, self.rows, self.size, self.max_pixels = root, rows, size, max_pixels

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int):
        artwork_id, rel = self.rows[i]
        try:
            img = open_located(self.root / rel, self.max_pixels)
        except ImageError as exc:
            return artwork_id, None, str(exc), None, None
        try:
            tensor = index_input(img, self.size, self.root / rel)
        except ImageError as exc:
            return artwork_id, None, str(exc), img.width, img.height
        return artwork_id, tensor, None, img.width, img.height


def extract(backbone: Backbone, layer: str, images: ArtworkImages, batch_size: int,
            workers: int, device: torch.device, precision: str) -> Iterator[tuple]:
    """Yield (id, (h, w, C) float16 map or None, error, width, height) for every artwork,
    the network run in `precision` (float32 or bfloat16).

    Decoding runs in `workers` processes while the network runs here, so the network,
    not JPEG decoding, sets the pace.
    """
    loader = DataLoader(images, batch_size=None, num_workers=workers,
                        prefetch_factor=4 * batch_size if workers else None)
    return maps_of(backbone, layer, loader, batch_size, device, precision)


def maps_of(backbone: Backbone, layer: str, items: Iterable[tuple], batch_size: int,
            device: torch.device, precision: str) -> Iterator[tuple]:
    """`extract` for items already decoded (ArtworkImages' tuples): equal shapes are run
    together, `batch_size` at a time, since a batch must be one tensor."""
    buckets: dict[tuple[int, int], list] = defaultdict(list)

    def run(batch_items: list) -> Iterator[tuple]:
        batch = torch.stack([item[1] for item in batch_items]).to(device)
        with torch.inference_mode(), network_precision(precision, device):
            maps = backbone(batch, [layer])[layer]
        # Stored in float16 whichever precision made them: bfloat16's 8-bit mantissa fits.
        maps = maps.permute(0, 2, 3, 1).to(torch.float16).cpu().numpy()
        for item, fmap in zip(batch_items, maps):
            yield item[0], np.ascontiguousarray(fmap), None, item[3], item[4]

    for item in items:
        if item[1] is None:
            yield item
            continue
        bucket = buckets[tuple(item[1].shape[1:])]
        bucket.append(item)
        if len(bucket) >= batch_size:
            yield from run(bucket)
            bucket.clear()
    for bucket in buckets.values():
        if bucket:
            yield from run(bucket)
