"""The palette match for a decoded image, with its colour moves kept smooth.

Iterative distribution transfer (transfer/colour.py's rotation passes) sends each colour
where the painting's joint distribution has room, whatever lies beside it: a photo's
sky of near-equal blues is split between the painting's blue sky and its orange path,
and comes out in hard-edged orange and cyan blotches. Here each round's colour moves
are guided-filtered along the image's own luminance before they are applied (He et
al.'s guided filter, fitted at a quarter of the size), so neighbours of like brightness
move alike; a last pass along the painting's three axes takes back the marginals the
smoothing gave up.
"""
from __future__ import annotations

import torch

from transfer.colour import match_palette, rgb_to_ycc
from transfer.denoise import fast_guided_filter

# The smoothing window's radius as a share of the long side: 16 px at 512, where the
# decoder's blotches are tens of pixels wide; they grow with the image.
RADIUS_SHARE = 1 / 32
# The filter fits its map at this fraction of the size: the moves are smooth over the
# window, and the full-size filter cost as much as the passes themselves.
SCALE = 4
# The guided filter's regulariser (luminance in 0..1): moves follow luminance edges of
# about 0.1 and above, and are averaged across weaker ones.
EPS = 1e-2


def _only_inside(moves: torch.Tensor, inside: torch.Tensor) -> torch.Tensor:
    """`moves` (1, 3, H, W) zeroed but at the flat positions `inside`."""
    kept = torch.zeros_like(moves).flatten(2)
    kept[..., inside] = moves.flatten(2)[..., inside]
    return kept.view_as(moves)


def smooth_palette_match(result: torch.Tensor, painting: torch.Tensor,
                         inside: torch.Tensor | None, rotations: int, rounds: int
                         ) -> torch.Tensor:
    """The (1, 3, H, W) `result` moved to `painting`'s colours in `rounds` rounds of
    `rotations` passes each (transfer/colour.py's `match_palette`, only at the flat
    positions `inside` when given), every round's moves smoothed along the result's
    luminance, then one pass along the painting's axes."""
    radius = max(1, round(max(result.shape[2:]) * RADIUS_SHARE))
    for _ in range(rounds):
        moves = match_palette(result, painting, inside, rotations) - result
        smoothed = fast_guided_filter(rgb_to_ycc(result)[:, :1], moves, radius, EPS, SCALE)
        if inside is not None:  # smoothing spreads moves past the mask; they stop there
            smoothed = _only_inside(smoothed, inside)
        result = (result + smoothed).clamp(0, 1)
    return match_palette(result, painting, inside)
