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


def box_sums(corr: torch.Tensor) -> torch.Tensor:
    """Patch dot products from position ones: (B, h, w, H, W) -> (B, h-2, w-2, H-2, W-2).

    Along columns, then rows; the first add of each writes a fresh tensor, the rest add
    in place.
    """
    _, h, w, hh, ww = corr.shape
    oh, ow, okh, okw = h - PATCH + 1, w - PATCH + 1, hh - PATCH + 1, ww - PATCH + 1
    cols = corr[:, :, 0:ow, :, 0:okw] + corr[:, :, 1:1 + ow, :, 1:1 + okw]
    for d in range(2, PATCH):
        cols += corr[:, :, d:d + ow, :, d:d + okw]
    dots = cols[:, 0:oh, :, 0:okh] + cols[:, 1:1 + oh, :, 1:1 + okh]
    for d in range(2, PATCH):
        dots += cols[:, d:d + oh, :, d:d + okh]
    return dots


def best_cosines(dots: torch.Tensor, key_norms: torch.Tensor, query_norms: torch.Tensor,
                 eps: float = 1e-6) -> tuple[torch.Tensor, torch.Tensor]:
    """Each query patch's best cosine and the flat index of its key patch, from `box_sums`
    (scaled in place). A query patch's own norm divides its best only: it cannot change
    which key patch wins."""
    dots *= key_norms.clamp_min(eps).reciprocal()[:, None, None]
    value, index = dots.flatten(3).max(-1)
    return value / query_norms.clamp_min(eps), index


def _band_dots(query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """`box_sums` of every valid 3x3 patch of `query` (C, h, w) with those of `keys`
    (B, C, H, W).

    The products take the keys' dtype: float16 keys run on a GPU's tensor cores (a query
    position's norm times a key position's must then stay under float16's 65,504, or
    products overflow); the sums are float32 either way.
    """
    c, h, w = query.shape
    b, _, hh, ww = keys.shape
    corr = torch.matmul(query.to(keys.dtype).reshape(c, h * w).t(), keys.reshape(b, c, hh * ww))
    return box_sums(corr.float().view(b, h, w, hh, ww))


def best_matches(query: torch.Tensor, keys: torch.Tensor, key_norms: torch.Tensor | None = None,
                 rows_per_chunk: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """For every 3x3 patch of `query` (C, h, w), its best cosine in each key map.

    Without `key_norms`, the keys are taken in float32 and their `patch_norms` computed
    here; with them (a caller that holds maps scores them often), the keys are used as
    they are (see `_band_dots` for float16). Returns (best cosine, flat index of the best
    key patch), each (B, h-2, w-2). Works in bands of query rows so memory stays bounded
    for large maps.
    """
    oh = query.shape[1] - PATCH + 1
    if key_norms is None:
        keys = keys.float()
        key_norms = patch_norms(keys)
    q_norm = patch_norms(query.unsqueeze(0))[0]
    best, where = [], []
    for top in range(0, oh, rows_per_chunk):
        bottom = min(oh, top + rows_per_chunk)
        dots = _band_dots(query[:, top:bottom + PATCH - 1], keys)
        value, index = best_cosines(dots, key_norms, q_norm[top:bottom])
        best.append(value)
        where.append(index)
    return torch.cat(best, 1), torch.cat(where, 1)
