"""Photo-to-painting patch correspondence, and carrying it down to shallower layers.

A correspondence is (h, w, 3): for every photo position, the orientation of the painting
it came from and the (row, col) of the patch centre in that orientation's map. The 8
orientations are the painting's quarter turns and their mirror images, so a photo's
diagonal or upturned stroke can take the painting's stroke turned to fit.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from core.patches import best_matches


def orient(image: torch.Tensor, which: int) -> torch.Tensor:
    """The `which`-th orientation of a (..., H, W) tensor: mirrored when which >= 4, then
    `which % 4` quarter turns."""
    if which >= 4:
        image = image.flip(-1)
    return torch.rot90(image, which % 4, dims=(-2, -1))


def match_positions(photo_feats: torch.Tensor, painting_maps: list[torch.Tensor],
                    rows_per_chunk: int = 16) -> torch.Tensor:
    """For every position of the photo map (C, H, W), the painting patch that fits best
    among the maps of `painting_maps` (one per orientation, each (C, H_o, W_o)).

    The photo map is zero-padded so border positions get a patch too; painting patches
    are whole ones only, so the answer is a patch centre. Returns (h, w, 3) integers
    (orientation, row, col). Photo rows are scored `rows_per_chunk` at a time.
    """
    padded = F.pad(photo_feats, (1, 1, 1, 1))
    best_cos, best = None, None
    for which, feats in enumerate(painting_maps):
        cos, index = best_matches(padded, feats.unsqueeze(0), rows_per_chunk=rows_per_chunk)
        inner_w = feats.shape[2] - 2
        found = torch.stack((torch.full_like(index[0], which), index[0] // inner_w + 1,
                             index[0] % inner_w + 1), dim=-1)
        if best is None:
            best_cos, best = cos[0], found
        else:
            better = cos[0] > best_cos
            best_cos = torch.where(better, cos[0], best_cos)
            best = torch.where(better[..., None], found, best)
    return best


def carry_down(positions: torch.Tensor, factor: int) -> torch.Tensor:
    """The same correspondence `factor` times finer: each position becomes a factor^2 block."""
    if factor == 1:
        return positions
    offsets = torch.arange(factor, device=positions.device)
    rows = positions[..., 1, None] * factor + offsets
    cols = positions[..., 2, None] * factor + offsets
    h, w = positions.shape[:2]
    rows = rows[:, :, :, None].expand(h, w, factor, factor)
    cols = cols[:, :, None, :].expand(h, w, factor, factor)
    which = positions[..., 0, None, None].expand(h, w, factor, factor)
    fine = torch.stack((which, rows, cols), dim=-1)
    return fine.permute(0, 2, 1, 3, 4).reshape(h * factor, w * factor, 3)


def flat_index(shapes: list[tuple[int, ...]], positions: torch.Tensor) -> torch.Tensor:
    """Index of each (orientation, row, col) in maps of (..., H_o, W_o) `shapes` whose
    positions are laid end to end."""
    sizes = torch.tensor([s[-2] * s[-1] for s in shapes], device=positions.device)
    widths = torch.tensor([s[-1] for s in shapes], device=positions.device)
    starts = torch.cumsum(sizes, 0) - sizes
    which = positions[..., 0]
    return (starts[which] + positions[..., 1] * widths[which] + positions[..., 2]).flatten()


def gather(maps: list[torch.Tensor], positions: torch.Tensor) -> torch.Tensor:
    """The painting features (C, H_o, W_o per orientation) re-arranged at `positions`
    (h, w, 3): (C, h, w)."""
    flat = torch.cat([m.flatten(1) for m in maps], dim=1)
    picked = flat[:, flat_index([m.shape for m in maps], positions)]
    return picked.view(flat.shape[0], *positions.shape[:2])
