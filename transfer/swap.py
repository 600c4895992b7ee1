"""Style swap (Chen & Schmidt 2016): every 3x3 patch of the photo's features replaced by
the painting patch it correlates with best, overlapping patches averaged.

The classic form is two convolutions: the photo map with the normalised painting
patches as filters (argmax over filters picks each patch), then a transposed
convolution of the one-hot argmax with the raw patches (paste, and divide by how many
patches cover a position). Both are done here without their dense cost: the match is
`core/patches.py`'s banded cosine (one C-dim correlation plus a 3x3 box sum, a band
of photo rows at a time, so a 2048 px photo stays within a few GB), and the one-hot
transposed convolution, which only ever picks one patch per position, is nine shifted
gathers.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from core.patches import patch_norms
from transfer.matching import gather, match_positions

# Bytes of scores a band of photo rows may hold (about three (rows x W) x (H_o x W_o)
# float32 tables at once): a 2048 px photo's swap then peaks near 0.5 GB above its maps
# instead of 2.5 GB in bands of 16 rows, and a 512 px one is a single band.
BAND_BYTES = 512 * 2**20


def band_rows(photo: torch.Tensor, maps: list[torch.Tensor]) -> int:
    """Photo rows scored at once so a band stays within BAND_BYTES."""
    per_row = 3 * 4 * (photo.shape[-1] + 2) * max(m.shape[-2] * m.shape[-1] for m in maps)
    return max(1, BAND_BYTES // per_row)


def paste(maps: list[torch.Tensor], positions: torch.Tensor) -> torch.Tensor:
    """The painting maps (C, H_o, W_o per orientation) laid out as the (h, w, 3)
    correspondence says, each position's whole 3x3 patch pasted around it and the
    overlaps averaged: (C, h, w)."""
    h, w = positions.shape[:2]
    total = maps[0].new_zeros(maps[0].shape[0], h + 2, w + 2)
    count = maps[0].new_zeros(1, h + 2, w + 2)
    shift = torch.zeros_like(positions)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            shift[..., 1], shift[..., 2] = dy, dx
            total[:, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w] += gather(maps, positions + shift)
            count[:, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w] += 1
    return (total / count)[:, 1:1 + h, 1:1 + w]


def swap(photo: torch.Tensor, maps: list[torch.Tensor], photo_keys: torch.Tensor | None = None,
         key_maps: list[torch.Tensor] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The photo's features (C, h, w) with every 3x3 patch swapped for the best of the
    painting's `maps` (C, H_o, W_o, one per orientation or scale).

    Patches are compared on `photo_keys` and `key_maps` (descriptors laid out as the
    features, e.g. centred or with a shallower layer beside them), by default on the
    features themselves. Returns the swapped features (C, h, w) and the correspondence,
    (h, w, 3) integers (map, row, col of the patch centre) as `match_positions` gives it.
    """
    photo_keys = photo if photo_keys is None else photo_keys
    key_maps = maps if key_maps is None else key_maps
    positions = match_positions(photo_keys, key_maps, band_rows(photo_keys, key_maps))
    return paste(maps, positions), positions


def blend(photo: torch.Tensor, swapped: torch.Tensor, share: float | torch.Tensor
          ) -> torch.Tensor:
    """(1 - share) * photo + share * swapped, the share one number or one per position:
    0 decodes to the photo as the decoder returns it, 1 to the full swap."""
    return torch.lerp(photo, swapped, share)


def kept_structure(photo: torch.Tensor, swapped: torch.Tensor, power: float) -> torch.Tensor:
    """(h, w) shares of the swap that leave the photo its structure: where the swapped
    features (C, h, w) carry less energy than the photo's (a forest swapped for blank
    paper), (swapped / photo energy)^power, over 3x3 windows; 1 where they carry as much
    or more, and everywhere at power 0."""
    def energy(feats: torch.Tensor) -> torch.Tensor:  # zero-padded, so one per position
        return patch_norms(F.pad(feats, (1, 1, 1, 1))[None])[0]
    return (energy(swapped) / energy(photo).clamp_min(1e-6)).clamp(0, 1) ** power


def mixture_moments(maps: list[torch.Tensor], weights: list[float]
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """Channel means and standard deviations, (C, 1, 1) each, of the paintings' maps
    (C, H, W) mixed by `weights` (summing to 1): one painting's own, or a blend's."""
    mean = sum(w * m.mean((1, 2), keepdim=True) for m, w in zip(maps, weights))
    square = sum(w * m.square().mean((1, 2), keepdim=True) for m, w in zip(maps, weights))
    return mean, (square - mean.square()).clamp_min(0).sqrt()


def with_moments(feats: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """`feats` (C, h, w) with each channel's mean and standard deviation set to these
    (AdaIN, Huang & Belongie 2017), kept non-negative as a ReLU's output is."""
    own_mean = feats.mean((1, 2), keepdim=True)
    own_std = feats.std((1, 2), keepdim=True, correction=0)
    return ((feats - own_mean) / own_std.clamp_min(1e-5) * std + mean).clamp_min(0)


def centred(feats: torch.Tensor) -> torch.Tensor:
    """Features (C, H, W) less their channel means: a patch is then matched by its
    pattern, not by the image's overall level in each channel."""
    return feats - feats.mean((1, 2), keepdim=True)


def descriptors(photo: list[torch.Tensor], paintings: list[list[torch.Tensor]]
                ) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """NNST's descriptor: the photo's and each painting's maps at several layers (deepest
    first, each (C_l, H_l, W_l)) average-pooled to the deepest grid and joined along the
    channels, each layer divided by the paintings' root mean energy there so every
    layer counts alike, and every image scaled the same (a cosine would otherwise
    weigh the layers differently for each, and a blend's paintings unlike)."""
    def pooled(maps: list[torch.Tensor]) -> list[torch.Tensor]:
        grid = maps[0].shape[1:]
        return [m if m.shape[1:] == grid else F.adaptive_avg_pool2d(m, grid) for m in maps]

    photo, paintings = pooled(photo), [pooled(p) for p in paintings]
    scales = [torch.stack([p[layer].square().sum(0).mean() for p in paintings]).mean().sqrt()
              .clamp_min(1e-12) for layer in range(len(photo))]

    def joined(maps: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat([m / s for m, s in zip(maps, scales)])

    return joined(photo), [joined(p) for p in paintings]
