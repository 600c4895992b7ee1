"""Photo-to-painting patch correspondence, and carrying it down to shallower layers."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from artifier.patches import best_matches


def match_positions(photo_feats: torch.Tensor, painting_feats: torch.Tensor) -> torch.Tensor:
    """For every position of the photo map, the painting position whose 3x3 patch fits best.

    Both maps are (C, H, W). The photo map is zero-padded so border positions get a patch
    too; painting patches are whole ones only, so the answer is a patch centre. Returns
    (h, w, 2) integer (row, col) in the painting map.
    """
    _, _, width = painting_feats.shape
    _, index = best_matches(F.pad(photo_feats, (1, 1, 1, 1)), painting_feats.unsqueeze(0))
    index = index[0]
    inner_w = width - 2
    return torch.stack((index // inner_w + 1, index % inner_w + 1), dim=-1)


def carry_down(positions: torch.Tensor, factor: int) -> torch.Tensor:
    """The same correspondence `factor` times finer: each position becomes a factor^2 block."""
    if factor == 1:
        return positions
    offsets = torch.arange(factor, device=positions.device)
    rows = positions[..., 0, None] * factor + offsets
    cols = positions[..., 1, None] * factor + offsets
    h, w = positions.shape[:2]
    rows = rows[:, :, :, None].expand(h, w, factor, factor)
    cols = cols[:, :, None, :].expand(h, w, factor, factor)
    fine = torch.stack((rows, cols), dim=-1)
    return fine.permute(0, 2, 1, 3, 4).reshape(h * factor, w * factor, 2)


def gather(feats: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """The painting features (C, H, W) re-arranged at `positions` (h, w, 2): (C, h, w)."""
    flat = positions[..., 0] * feats.shape[2] + positions[..., 1]
    return feats.flatten(1)[:, flat.flatten()].view(feats.shape[0], *positions.shape[:2])
