"""Coarse to fine from a start that has detail of its own: the decoded swap.

Each scale's result is the next scale's start, brought up in size; that brings the
coarse scale's painting but none of the start's fine strokes, and a 2x upsampling leaves
every other pixel an interpolated one, a period-2 pattern in the jumps between pixels
that L-BFGS's small steps keep (grid 1.24 at 256 px, 1.30 at 512 px on the library
ceiling, against 1.05 at 128 px). So the start's own detail above the coarse scale's
band is added back, and both bands are smoothed by the same binomial kernel, which has
no response at that period (docs/benchmarks.md, "The swap as the optimisation's start").
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def resized(image: torch.Tensor, size: tuple[int, int] | torch.Size) -> torch.Tensor:
    """Bicubic, antialiased when it shrinks."""
    return F.interpolate(image, size=tuple(size), mode="bicubic", align_corners=False,
                         antialias=True)


def smooth(image: torch.Tensor) -> torch.Tensor:
    """The 3x3 binomial filter ([1, 2, 1] / 4 each way), edges replicated."""
    taps = torch.tensor([1.0, 2.0, 1.0], device=image.device, dtype=image.dtype) / 4
    kernel = (taps[:, None] * taps[None, :]).expand(image.shape[1], 1, 3, 3)
    return F.conv2d(F.pad(image, (1, 1, 1, 1), mode="replicate"), kernel,
                    groups=image.shape[1])


def with_detail(image: torch.Tensor, start: torch.Tensor,
                size: tuple[int, int] | torch.Size) -> torch.Tensor:
    """`image`, optimised at a coarser size, brought up to `size` with the detail of
    `start` (full size) that the coarser size could not hold."""
    coarse = image.shape[2:]
    if tuple(coarse) == tuple(size):
        return image
    here = resized(start, size)
    band = here - smooth(resized(resized(here, coarse), size))
    return (smooth(resized(image, size).clamp(0, 1)) + band).clamp(0, 1)
