"""What the output is pulled towards at one scale: content features, and the painting's
Gram matrices and sorted histograms (matched to the photo, whole, or a mix)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from core.backbone import Backbone
from core.layers import stride_of
from core.errors import ConfigError
from transfer import losses
from transfer.collage import oriented
from transfer.matching import carry_down, gather, match_positions


@dataclass
class Targets:
    """What the output is pulled towards at one scale."""
    content: torch.Tensor
    grams: dict[str, torch.Tensor]
    sorted_hist: dict[str, torch.Tensor]
    # The painting's colours, sorted per RGB channel, one value per (masked) photo pixel.
    sorted_pixels: torch.Tensor
    # Per layer, the flat positions under the mask; style statistics are taken there only.
    inside: dict[str, torch.Tensor | None]


def masked(feats: torch.Tensor, inside: torch.Tensor | None) -> torch.Tensor:
    """The (C, 1, N) features at the masked positions, or all of them."""
    flat = feats.reshape(feats.shape[-3], 1, -1)
    return flat if inside is None else flat[:, :, inside]


def inside_positions(mask: torch.Tensor | None, size: tuple[int, int]) -> torch.Tensor | None:
    if mask is None:
        return None
    inside = (F.interpolate(mask, size=size, mode="area") > 0.5).flatten().nonzero()[:, 0]
    if inside.numel() == 0:
        raise ConfigError("the mask is too small to paint at this size; make it larger")
    return inside


def features(backbone: Backbone, image: torch.Tensor, layers: set[str],
             pad: int) -> dict[str, torch.Tensor]:
    """Features of `image` reflect-padded by `pad` px, cropped back to the image: with
    VGG's own zero padding the border looks like an edge, and the optimisation paints
    dark lines along it. `pad` is a multiple of every layer's stride."""
    if pad == 0:
        return backbone(image, layers)
    feats = backbone(F.pad(image, (pad,) * 4, mode="reflect"), layers)
    out = {}
    for layer, f in feats.items():
        cut = pad // stride_of(layer)
        out[layer] = f[..., cut:f.shape[-2] - cut, cut:f.shape[-1] - cut]
    return out


def _matched(backbone: Backbone, photo_feats: dict[str, torch.Tensor], painting: torch.Tensor,
             painting_feats: dict[str, torch.Tensor], match_layer: str,
             cfg: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The painting's features at the layers of `painting_feats` (and its pixels, key
    "pixels") re-arranged to the photo's layout by the patch correspondence at
    `match_layer`, over the painting's orientations; the first is `painting_feats`."""
    layers = set(painting_feats)
    paintings = oriented(painting, cfg["orientations"])
    with torch.no_grad():
        maps = [painting_feats] + [features(backbone, p, layers, cfg["border_pad"])
                                   for p in paintings[1:]]
    positions = match_positions(photo_feats[match_layer][0], [m[match_layer][0] for m in maps])
    out = {layer: gather([m[layer][0] for m in maps],
                         carry_down(positions, stride_of(match_layer) // stride_of(layer)))
           for layer in layers}
    out["pixels"] = gather([p[0] for p in paintings],
                           carry_down(positions, stride_of(match_layer)))
    return out


def compute_targets(backbone: Backbone, photo: torch.Tensor, painting: torch.Tensor,
                    cfg: dict[str, Any], mask: torch.Tensor | None = None) -> Targets:
    """Content features, and Grams and histograms of the painting: of the whole painting,
    of its features matched to the photo (Deep Painterly Harmonization), or a mix, by
    `painting_share` (under the mask, when there is one)."""
    style_layers, hist_layers = cfg["style_layers"], cfg["hist_layers"]
    stat_layers = set(style_layers) | set(hist_layers)
    # Of the photo only the content layer and the match layer are needed: at 2048 px its
    # shallow maps would hold a gigabyte for nothing.
    with torch.no_grad():
        photo_feats = features(backbone, photo, {cfg["content_layer"], style_layers[0]},
                               cfg["border_pad"])
        painting_feats = features(backbone, painting, stat_layers, cfg["border_pad"])
    share = cfg["painting_share"]
    matched = (_matched(backbone, photo_feats, painting, painting_feats, style_layers[0], cfg)
               if share < 1 else None)
    grams, sorted_hist, inside = {}, {}, {}
    for layer in stat_layers:
        whole = painting_feats[layer][0]
        size = (photo.shape[2] // stride_of(layer), photo.shape[3] // stride_of(layer))
        inside[layer] = inside_positions(mask, size)
        count = size[0] * size[1] if inside[layer] is None else inside[layer].numel()
        if layer in style_layers:
            grams[layer] = share * losses.gram(whole)
        if layer in hist_layers:
            sorted_hist[layer] = share * losses.resample_sorted(whole, count)
        if matched is not None:
            mine = masked(matched[layer], inside[layer])
            if layer in style_layers:
                grams[layer] = grams[layer] + (1 - share) * losses.gram(mine)
            if layer in hist_layers:
                sorted_hist[layer] = (sorted_hist[layer]
                                      + (1 - share) * mine.flatten(1).sort(dim=1).values)
    inside["pixels"] = inside_positions(mask, photo.shape[2:])
    count = masked(photo[0], inside["pixels"]).shape[2]
    sorted_pixels = share * losses.resample_sorted(painting[0], count)
    if matched is not None:
        pixels = masked(matched["pixels"], inside["pixels"]).flatten(1).sort(dim=1).values
        sorted_pixels = sorted_pixels + (1 - share) * pixels
    return Targets(photo_feats[cfg["content_layer"]].detach(), grams, sorted_hist,
                   sorted_pixels, inside)
