"""The exact score: for every 3x3 patch of the photo, its best cosine with any patch of
the artwork, summed over the photo's patches (the original's measure; MaxSim in ColBERT).

And a cheaper estimate of it for a first pass over a shortlist: the photo map replaced by
its leading singular directions. A 14x14 relu5_3 map is 196 positions of 512 channels,
and its first 32 directions carry most of it, so the products with each artwork take a
fifth of the exact ones' arithmetic while the norms stay exact.
"""
from __future__ import annotations

import torch

from core.patches import best_cosines, best_matches, box_sums, patch_norms


def maxsim_scores(photo: torch.Tensor, artworks: torch.Tensor) -> torch.Tensor:
    """Scores of (B, C, H, W) artwork maps, all of one shape, for a (C, h, w) photo map."""
    best, _ = best_matches(photo.float(), artworks.float())
    return best.flatten(1).sum(1)


def photo_factors(photo: torch.Tensor, rank: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A (C, h, w) photo map as (h*w, r) @ (r, C): its best approximation of rank r."""
    c, h, w = photo.shape
    left, values, right = torch.linalg.svd(photo.float().reshape(c, h * w).t(),
                                           full_matrices=False)
    return left[:, :rank] * values[:rank], right[:rank]


def low_rank_scores(photo: torch.Tensor, factors: tuple[torch.Tensor, torch.Tensor],
                    artworks: torch.Tensor) -> torch.Tensor:
    """`maxsim_scores` with the photo's positions taken from `photo_factors`; the photo's
    and artworks' patch norms are exact."""
    left, right = factors
    keys = artworks.float()
    b, c, hh, ww = keys.shape
    h, w = photo.shape[1:]
    corr = torch.matmul(left, torch.matmul(right, keys.reshape(b, c, hh * ww)))
    best, _ = best_cosines(box_sums(corr.view(b, h, w, hh, ww)), patch_norms(keys),
                           patch_norms(photo.float().unsqueeze(0))[0])
    return best.flatten(1).sum(1)
