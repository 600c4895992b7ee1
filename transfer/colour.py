"""Luminance and chroma (YCbCr, BT.601), and keeping the photo's colours.

"Preserving color" (Gatys et al. 2016): paint the luminance only. Here the painted
result's luminance is joined to the photo's chroma, so strokes and light come from the
painting and the colours stay the photo's.
"""
from __future__ import annotations

import torch

_TO_YCC = torch.tensor([[0.299, 0.587, 0.114],
                        [-0.168736, -0.331264, 0.5],
                        [0.5, -0.418688, -0.081312]])


def rgb_to_ycc(rgb: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) RGB to Y, Cb, Cr (chroma centred on 0)."""
    return torch.einsum("ij,bjhw->bihw", _TO_YCC.to(rgb), rgb)


def ycc_to_rgb(ycc: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,bjhw->bihw", torch.linalg.inv(_TO_YCC).to(ycc), ycc).clamp(0, 1)


def keep_photo_colour(result: torch.Tensor, photo: torch.Tensor) -> torch.Tensor:
    """The result's luminance with the photo's chroma; both (1, 3, H, W) of one size."""
    return ycc_to_rgb(torch.cat((rgb_to_ycc(result)[:, :1], rgb_to_ycc(photo)[:, 1:]), 1))
