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
    energy = torch.linalg.vector_norm(feats.float(), dim=1, keepdim=True).square()
    return F.avg_pool2d(energy, PATCH, stride=1).mul(PATCH * PATCH).clamp_min(0).sqrt()[:, 0]


def patch_cosines(query: torch.Tensor, keys: torch.Tensor, key_norms: torch.Tensor,
                  eps: float = 1e-6) -> torch.Tensor:
    """Cosines of every valid 3x3 patch of `query` (C, h, w) with those of `keys`
    (B, C, H, W), whose `patch_norms` are given (the caller's bands of query rows share them).

    The products take the keys' dtype: float16 keys run on a GPU's tensor cores (a query
    position's norm times a key position's must then stay under float16's 65,504, or
    products overflow); the sums are float32 either way. Returns (B, h-2, w-2, H-2, W-2). The box sum runs along columns,
    then rows: six shifted adds instead of nine.
    """
    c, h, w = query.shape
    b, _, hh, ww = keys.shape
    corr = torch.matmul(query.to(keys.dtype).reshape(c, h * w).t(), keys.reshape(b, c, hh * ww))
    corr = corr.float().view(b, h, w, hh, ww)
    oh, ow, okh, okw = h - PATCH + 1, w - PATCH + 1, hh - PATCH + 1, ww - PATCH + 1
    cols = corr[:, :, 0:ow, :, 0:okw].clone()
    for d in range(1, PATCH):
        cols += corr[:, :, d:d + ow, :, d:d + okw]
    dots = cols[:, 0:oh, :, 0:okh].clone()
    for d in range(1, PATCH):
        dots += cols[:, d:d + oh, :, d:d + okh]
    q_norm = patch_norms(query.unsqueeze(0))[0].clamp_min(eps)
    return dots / q_norm[None, :, :, None, None] / key_norms.clamp_min(eps)[:, None, None]


def best_matches(query: torch.Tensor, keys: torch.Tensor, key_norms: torch.Tensor | None = None,
                 rows_per_chunk: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """For every 3x3 patch of `query` (C, h, w), its best cosine in each key map.

    Without `key_norms`, the keys are taken in float32 and their norms computed here;
    with them (a caller that holds maps scores them often), the keys are used as they
    are (see `patch_cosines` for float16). Returns (best cosine, flat index of the best
    key patch), each (B, h-2, w-2). Works in bands of query rows so memory stays bounded
    for large maps.
    """
    oh = query.shape[1] - PATCH + 1
    if key_norms is None:
        keys = keys.float()
        key_norms = patch_norms(keys)
    best, where = [], []
    for top in range(0, oh, rows_per_chunk):
        band = query[:, top:min(oh, top + rows_per_chunk) + PATCH - 1]
        value, index = patch_cosines(band, keys, key_norms).flatten(3).max(-1)
        best.append(value)
        where.append(index)
    return torch.cat(best, 1), torch.cat(where, 1)
