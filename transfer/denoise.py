"""Chrominance denoising: smooth colour, keep luminance detail.

Optimisation leaves high-frequency colour speckle. A guided filter on the two chroma
channels, steered by luminance, removes it while colour edges stay where the
luminance edges are (the refinement Deep Painterly Harmonization lists).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from transfer.colour import rgb_to_ycc, ycc_to_rgb


def _box(x: torch.Tensor, radius: int) -> torch.Tensor:
    return F.avg_pool2d(F.pad(x, (radius,) * 4, mode="replicate"), 2 * radius + 1, stride=1)


def guided_filter(guide: torch.Tensor, src: torch.Tensor, radius: int, eps: float) -> torch.Tensor:
    """He et al.'s guided filter with a one-channel guide (B, 1, H, W)."""
    mean_g, mean_s = _box(guide, radius), _box(src, radius)
    cov = _box(guide * src, radius) - mean_g * mean_s
    var = _box(guide * guide, radius) - mean_g * mean_g
    a = cov / (var + eps)
    b = mean_s - a * mean_g
    return _box(a, radius) * guide + _box(b, radius)


def denoise_chroma(rgb: torch.Tensor, radius: int = 4, eps: float = 1e-3) -> torch.Tensor:
    """(1, 3, H, W) RGB in [0, 1] with its chroma guided-filtered by its luma."""
    ycc = rgb_to_ycc(rgb)
    luma = ycc[:, :1]
    chroma = guided_filter(luma.expand(-1, 2, -1, -1), ycc[:, 1:], radius, eps)
    return ycc_to_rgb(torch.cat((luma, chroma), 1))
