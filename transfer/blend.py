"""Painting with several paintings at once: every photo patch takes its best piece from
any of them (the start matches against the union of their patches), and what the
optimisation pulls towards is each painting's statistics weighted by the share of the
pieces it gave, so a painting that gave a tenth of the pieces gives a tenth of the style
and of the palette."""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from core.backbone import Backbone
from transfer.losses import stretch_sorted
from transfer.targets import Targets, compute_targets


def piece_shares(positions: torch.Tensor, count: int, mask: torch.Tensor | None = None
                 ) -> list[float]:
    """The share of the correspondence's (h, w, 3) positions taken from each of `count`
    paintings (its first column names the painting). With a `mask` (1, 1, H, W), each
    position counts by how much of it the mask paints: pieces laid where the photo is
    kept are in no painting."""
    cover = (None if mask is None else
             F.interpolate(mask.float(), size=positions.shape[:2], mode="area").flatten().cpu())
    taken = torch.bincount(positions[..., 0].flatten().cpu(), weights=cover,
                           minlength=count).double()
    return (taken / taken.sum()).tolist()


def mixed_sorted(ranked: list[torch.Tensor], shares: list[float], n: int) -> torch.Tensor:
    """The sorted values (C, n) of a mixture: each of `ranked` (C, N_i, sorted per row)
    drawn in proportion to its share. A rank-for-rank histogram target of that mixture
    pulls towards every painting by its share."""
    parts = [stretch_sorted(r, max(1, round(share * n))) for r, share in zip(ranked, shares)
             if share > 0]
    return stretch_sorted(torch.cat(parts, 1).sort(dim=1).values, n)


def mixed_pixels(paintings: list[torch.Tensor], shares: list[float]) -> torch.Tensor:
    """The paintings' pixels mixed by share, as a (1, 3, 1, N) image: what a blend's
    palette is matched to (transfer/colour.py reads only the pixels' distribution)."""
    n = max(p[0, 0].numel() for p in paintings)
    parts = [p.reshape(3, -1)[:, torch.linspace(0, p[0, 0].numel() - 1,
                                                max(1, round(share * n))).long()]
             for p, share in zip(paintings, shares) if share > 0]
    return torch.cat(parts, 1)[None, :, None]


def palette_source(paintings: list[torch.Tensor], shares: list[float]) -> torch.Tensor:
    """What the finish matches the palette to: the painting, or a blend's mixed pixels."""
    return paintings[0] if len(paintings) == 1 else mixed_pixels(paintings, shares)


def blended_targets(backbone: Backbone, photo: torch.Tensor, paintings: list[torch.Tensor],
                    shares: list[float], cfg: dict[str, Any],
                    mask: torch.Tensor | None = None) -> Targets:
    """compute_targets for several paintings: Grams averaged by share (the Gram of the
    mixture of their features), histograms and pixel colours of the mixture."""
    used = [(p, s) for p, s in zip(paintings, shares) if s > 0]
    each = [compute_targets(backbone, photo, p, cfg, mask) for p, _ in used]
    if len(each) == 1:
        return each[0]
    weights = [s / sum(s for _, s in used) for _, s in used]
    first = each[0]
    return Targets(
        first.content,
        {layer: sum(w * t.grams[layer] for w, t in zip(weights, each)) for layer in first.grams},
        {layer: mixed_sorted([t.sorted_hist[layer] for t in each], weights,
                             first.sorted_hist[layer].shape[1]) for layer in first.sorted_hist},
        mixed_sorted([t.sorted_pixels for t in each], weights, first.sorted_pixels.shape[1]),
        first.inside)
