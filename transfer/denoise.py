"""Chrominance denoising: smooth colour, keep luminance detail.

Optimisation leaves high-frequency colour speckle. A guided filter on the two chroma
channels, steered by luminance, removes it while colour edges stay where the
luminance edges are (the refinement Deep Painterly Harmonization lists).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from transfer.colour import rgb_to_ycc, ycc_to_rgb


def box_mean(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Mean over the (2 radius + 1)^2 window around each pixel, the border replicated;
    a row pass then a column pass, so a wide window costs 2(2r + 1) adds a pixel, not
    (2r + 1)^2 (at radius 16 on a 512 px image: seconds against a tenth of one)."""
    width = 2 * radius + 1
    padded = F.pad(x, (radius,) * 4, mode="replicate")
    return F.avg_pool2d(F.avg_pool2d(padded, (1, width), stride=1), (width, 1), stride=1)


def _coefficients(guide: torch.Tensor, src: torch.Tensor, radius: int, eps: float
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """The guided filter's local linear map, src ~ a * guide + b, averaged over windows."""
    mean_g, mean_s = box_mean(guide, radius), box_mean(src, radius)
    cov = box_mean(guide * src, radius) - mean_g * mean_s
    var = box_mean(guide * guide, radius) - mean_g * mean_g
    a = cov / (var + eps)
    return box_mean(a, radius), box_mean(mean_s - a * mean_g, radius)


def guided_filter(guide: torch.Tensor, src: torch.Tensor, radius: int, eps: float) -> torch.Tensor:
    """He et al.'s guided filter with a one-channel guide (B, 1, H, W)."""
    a, b = _coefficients(guide, src, radius, eps)
    return a * guide + b


def fast_guided_filter(guide: torch.Tensor, src: torch.Tensor, radius: int, eps: float,
                       scale: int) -> torch.Tensor:
    """The guided filter with its linear map fitted at 1/`scale` of the size and
    upsampled (He and Sun 2015): for a wide window, whose map is smooth anyway, at
    1/scale^2 of the cost."""
    low = (max(1, guide.shape[2] // scale), max(1, guide.shape[3] // scale))
    a, b = _coefficients(F.interpolate(guide, size=low, mode="area"),
                         F.interpolate(src, size=low, mode="area"), max(1, radius // scale), eps)
    a, b = (F.interpolate(x, size=guide.shape[2:], mode="bilinear", align_corners=False)
            for x in (a, b))
    return a * guide + b


def denoise_chroma(rgb: torch.Tensor, radius: int = 4, eps: float = 1e-3) -> torch.Tensor:
    """(1, 3, H, W) RGB in [0, 1] with its chroma guided-filtered by its luma."""
    ycc = rgb_to_ycc(rgb)
    luma = ycc[:, :1]
    chroma = guided_filter(luma.expand(-1, 2, -1, -1), ycc[:, 1:], radius, eps)
    return ycc_to_rgb(torch.cat((luma, chroma), 1))
