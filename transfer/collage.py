"""The starting image: the photo's layout, built from the painting's own pieces.

Each photo block takes the painting block whose deep 3x3 patch matches it best, in any of
the painting's orientations. The original pasted hard blocks and its results show the
grid; here every block is laid down with a raised-cosine window twice its size, so
neighbours cross-fade over half a block and the window weights sum to one: a block's
centre keeps the painting's pixels, its border is a 50/50 blend, and no grid survives.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from transfer.matching import flat_index, match_positions, orient


def blend_window(size: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """2-D cos^2 window of `size` samples; shifted copies at size/2 sum to one."""
    x = (torch.arange(size, device=device, dtype=torch.float32) + 0.5 - size / 2) / size
    w = torch.cos(math.pi * x) ** 2
    return w[:, None] * w[None, :]


def paste_blocks(paintings: list[torch.Tensor], positions: torch.Tensor,
                 stride: int) -> torch.Tensor:
    """Lay blocks of the oriented `paintings` at `positions` (h, w, 3) onto an
    (h*stride, w*stride) canvas."""
    half = stride // 2
    windows = torch.cat([F.unfold(F.pad(p, (half,) * 4, mode="reflect"), 2 * stride,
                                  stride=stride) for p in paintings], dim=2)
    grids = [(p.shape[2] // stride, p.shape[3] // stride) for p in paintings]
    index = flat_index(grids, positions)
    weight = blend_window(2 * stride, positions.device).flatten().repeat(3)
    chosen = windows[:, :, index] * weight[None, :, None]
    h, w = positions.shape[:2]
    out_size = (h * stride + stride, w * stride + stride)
    canvas = F.fold(chosen, out_size, 2 * stride, stride=stride)
    norm = F.fold(weight[None, : (2 * stride) ** 2, None].expand(1, -1, h * w),
                  out_size, 2 * stride, stride=stride)
    return (canvas / norm.clamp_min(1e-6))[:, :, half:half + h * stride, half:half + w * stride]


def oriented(painting: torch.Tensor, orientations: int) -> list[torch.Tensor]:
    """The painting in its first `orientations` orientations (1: as painted, 8: all)."""
    return [orient(painting, which) for which in range(orientations)]


def collage_and_matches(photo: torch.Tensor, painting: torch.Tensor | list[torch.Tensor],
                        backbone, layer: str, stride: int, orientations: int = 1
                        ) -> tuple[torch.Tensor, torch.Tensor]:
    """The collage for a photo and a painting, both (1, 3, H, W) with sides multiples of
    stride, from the painting's blocks in `orientations` orientations, or from the
    blocks of a blend's list of paintings, each as painted; and the correspondence it
    was laid from, (h, w, 3) as `match_positions` gives it (its first column the
    orientation, or which painting of the list)."""
    paintings = painting if isinstance(painting, list) else oriented(painting, orientations)
    with torch.no_grad():
        photo_feats = backbone(photo, [layer])[layer][0]
        maps = [backbone(p, [layer])[layer][0] for p in paintings]
    positions = match_positions(photo_feats, maps)
    return paste_blocks(paintings, positions, stride), positions
