"""A step of the optimisation in tiles, for sizes whose whole step would not fit in memory.

The gradient is the whole image's, not a sum of per-tile objectives. Pass 1 takes, tile
by tile and without gradients, what couples distant positions: the Gram matrices and
each channel's ranks for the histogram loss. Pass 2 back-propagates tile by tile terms
whose gradient, those statistics held fixed, equals the whole objective's. Each tile is
read with a margin wider than the receptive field of the deepest layer, so its features
are the whole image's and neighbouring tiles meet without a seam.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from core.backbone import Backbone
from core.layers import stride_of
from core.precision import network_precision
from transfer import losses
from transfer.targets import Targets

# Pixels read around a tile: relu4_1 of VGG19 sees 68 px, 34 on each side; a multiple of 8
# keeps the pooling grid of every tile on the whole image's.
HALO = 40
Box = tuple[int, int, int, int]


def _cuts(length: int, tile: int) -> list[tuple[int, int]]:
    parts = -(-length // tile)
    step = -(-length // (parts * 8)) * 8
    return [(start, min(start + step, length)) for start in range(0, length, step)]


def tile_boxes(height: int, width: int, tile: int) -> list[Box]:
    """Core boxes (y0, y1, x0, x1) of at most `tile` px a side, on multiples of 8."""
    return [(y0, y1, x0, x1) for y0, y1 in _cuts(height, tile) for x0, x1 in _cuts(width, tile)]


def _tile_features(backbone: Backbone, padded: torch.Tensor, box: Box, pad: int,
                   layers: set[str], precision: str) -> dict[str, torch.Tensor]:
    """Features of the core `box` (image coordinates) read from the padded image with
    HALO around it; at the padded image's edge the network's own zero padding is the
    whole image's too."""
    y0, y1, x0, x1 = box
    top, left = max(0, y0 + pad - HALO), max(0, x0 + pad - HALO)
    bottom = min(padded.shape[2], y1 + pad + HALO)
    right = min(padded.shape[3], x1 + pad + HALO)
    with network_precision(precision, padded.device):
        feats = backbone(padded[:, :, top:bottom, left:right], layers)
    out = {}
    for layer, f in feats.items():
        s = stride_of(layer)
        dy, dx = (y0 + pad - top) // s, (x0 + pad - left) // s
        out[layer] = f[0, :, dy:dy + (y1 - y0) // s, dx:dx + (x1 - x0) // s].float()
    return out


def _at(full: torch.Tensor, box: Box, layer: str) -> torch.Tensor:
    s = stride_of(layer)
    return full[..., box[0] // s:box[1] // s, box[2] // s:box[3] // s]


def _statistics(backbone: Backbone, padded: torch.Tensor, boxes: list[Box], targets: Targets,
                cfg: dict[str, Any], positions: dict[str, int]
                ) -> tuple[dict, dict, dict[str, torch.Tensor]]:
    """Pass 1: Gram matrices and the histogram loss's per-position targets, and the
    style and histogram terms' values."""
    pad, style_layers, hist_layers = cfg["border_pad"], cfg["style_layers"], cfg["hist_layers"]
    height, width = padded.shape[2] - 2 * pad, padded.shape[3] - 2 * pad
    grams: dict[str, torch.Tensor] = {}
    maps = {layer: padded.new_empty(targets.sorted_hist[layer].shape[0],
                                    height // stride_of(layer), width // stride_of(layer))
            for layer in hist_layers}
    with torch.no_grad():
        for box in boxes:
            feats = _tile_features(backbone, padded, box, pad, {*style_layers, *hist_layers},
                                   cfg["precision"])
            for layer in style_layers:
                flat = feats[layer].flatten(1)
                grams[layer] = grams.get(layer, 0) + flat @ flat.t()
            for layer in hist_layers:
                _at(maps[layer], box, layer).copy_(feats[layer])
        for layer in style_layers:
            grams[layer] /= positions[layer]
        # Ranked in the network's dtype, as untiled: the maps hold its values widened.
        rank_dtype = torch.bfloat16 if cfg["precision"] == "bfloat16" else None
        remapped = {layer: losses.histogram_target(maps[layer], targets.sorted_hist[layer],
                                                   rank_dtype)
                    for layer in hist_layers}
        values = {
            "style": cfg["style_weight"] * sum(
                weight * F.mse_loss(grams[layer], targets.grams[layer])
                for layer, weight in zip(style_layers, cfg["style_layer_weights"])),
            "hist": cfg["hist_weight"] * sum(F.mse_loss(maps[layer], remapped[layer])
                                             for layer in hist_layers)}
    return grams, remapped, values


def tiled_backward(backbone: Backbone, image: torch.Tensor, targets: Targets,
                   cfg: dict[str, Any], tile: int, pixel_terms: dict[str, torch.Tensor]
                   ) -> dict[str, torch.Tensor]:
    """Back-propagates the whole objective into `image.grad`, a tile at a time; the
    network terms are computed here, `pixel_terms` (of `image`, cheap) are passed in.
    Returns every term's value. Targets under a mask are not tiled: `check_settings`
    refuses a mask above the tile size."""
    pad, style_layers = cfg["border_pad"], cfg["style_layers"]
    content_layer, hist_layers = cfg["content_layer"], cfg["hist_layers"]
    padded = F.pad(image.detach(), (pad,) * 4, mode="reflect") if pad else image.detach()
    boxes = tile_boxes(image.shape[2], image.shape[3], tile)
    positions = {layer: (image.shape[2] // stride_of(layer)) * (image.shape[3] // stride_of(layer))
                 for layer in {*style_layers, *hist_layers}}
    grams, remapped, values = _statistics(backbone, padded, boxes, targets, cfg, positions)
    # d mse(G, T) / dG, so that f^T M f / N per position back-propagates the style loss.
    coef = {layer: weight * 2 * (grams[layer] - targets.grams[layer]) / grams[layer].numel()
            for layer, weight in zip(style_layers, cfg["style_layer_weights"])}
    padded.requires_grad_(True)
    content = torch.zeros((), device=image.device)
    for box in boxes:
        feats = _tile_features(backbone, padded, box, pad,
                               {content_layer, *style_layers, *hist_layers}, cfg["precision"])
        part = (feats[content_layer] - _at(targets.content[0], box, content_layer)).pow(2).sum()
        part = part / targets.content.numel()
        style = sum((f * (coef[layer] @ f)).sum() / positions[layer]
                    for layer in style_layers for f in [feats[layer].flatten(1)])
        hist = sum((feats[layer] - _at(remapped[layer], box, layer)).pow(2).sum()
                   / (remapped[layer].shape[0] * positions[layer]) for layer in hist_layers)
        (cfg["content_weight"] * part + cfg["style_weight"] * style
         + cfg["hist_weight"] * hist).backward()
        content = content + part.detach()
    total_pixels = sum(pixel_terms.values())
    reflected = F.pad(image, (pad,) * 4, mode="reflect") if pad else image
    torch.autograd.backward([reflected, total_pixels], [padded.grad, None])
    return {"content": cfg["content_weight"] * content, **values, **pixel_terms}
