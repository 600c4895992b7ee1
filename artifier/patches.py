"""Cosine similarity of every 3x3 feature patch of one map with every 3x3 patch of others.

The cosine of two 3x3xC patches is a sum of nine C-dim dot products over two norms, so
all pairs come from one C-dim correlation of positions followed by a 3x3 "diagonal" box
sum: nine shifted slices added together. That is about nine times cheaper than
forming 9C-dim patch vectors, and it is what both transfer matching and retrieval
scoring use.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

PATCH = 3


def patch_norms(feats: torch.Tensor) -> torch.Tensor:
    """L2 norm of every valid 3x3 patch of a (B, C, H, W) map: (B, H-2, W-2)."""
    energy = feats.float().pow(2).sum(1, keepdim=True)
    return F.avg_pool2d(energy, PATCH, stride=1).mul(PATCH * PATCH).clamp_min(0).sqrt()[:, 0]


def patch_cosines(query: torch.Tensor, keys: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Cosines of every valid 3x3 patch of `query` (C, h, w) with those of `keys` (B, C, H, W).

    Returns (h-2, w-2, B, H-2, W-2).
    """
    c, h, w = query.shape
    b, _, hh, ww = keys.shape
    q = query.float().reshape(c, h * w)
    k = keys.float().permute(1, 0, 2, 3).reshape(c, b * hh * ww)
    corr = (q.t() @ k).view(h, w, b, hh, ww)
    oh, ow, okh, okw = h - PATCH + 1, w - PATCH + 1, hh - PATCH + 1, ww - PATCH + 1
    dots = corr.new_zeros(oh, ow, b, okh, okw)
    for di in range(PATCH):
        for dj in range(PATCH):
            dots += corr[di:di + oh, dj:dj + ow, :, di:di + okh, dj:dj + okw]
    q_norm = patch_norms(query.unsqueeze(0))[0].clamp_min(eps)
    k_norm = patch_norms(keys).clamp_min(eps)
    return dots / q_norm[:, :, None, None, None] / k_norm[None, None]


def best_matches(query: torch.Tensor, keys: torch.Tensor,
                 rows_per_chunk: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """For every 3x3 patch of `query` (C, h, w), its best cosine in each key map.

    Returns (best cosine, flat index of the best key patch), each (B, h-2, w-2). Works
    in bands of query rows so memory stays bounded for large maps.
    """
    oh = query.shape[1] - PATCH + 1
    best, where = [], []
    for top in range(0, oh, rows_per_chunk):
        band = query[:, top:min(oh, top + rows_per_chunk) + PATCH - 1]
        cos = patch_cosines(band, keys)
        cos = cos.flatten(3).permute(2, 0, 1, 3)
        value, index = cos.max(-1)
        best.append(value)
        where.append(index)
    return torch.cat(best, 1), torch.cat(where, 1)
