"""The exact score: for every 3x3 patch of the photo, its best cosine with any patch of
the artwork, summed over the photo's patches (the original's measure; MaxSim in ColBERT).
"""
from __future__ import annotations

import torch

from artifier.patches import best_matches


def maxsim_scores(photo: torch.Tensor, artworks: torch.Tensor) -> torch.Tensor:
    """Scores of (B, C, H, W) artwork maps, all of one shape, for a (C, h, w) photo map."""
    best, _ = best_matches(photo.float(), artworks.float())
    return best.flatten(1).sum(1)
