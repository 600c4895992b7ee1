"""The optimisation: coarse to fine, Adam on the pixels, starting from the matched collage."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import torch
import torch.nn.functional as F
from PIL import Image

from artifier.backbone import Backbone, stride_of
from artifier.errors import ConfigError
from artifier.images import fit_long_side, to_tensor
from transfer import losses
from transfer.collage import matched_collage
from transfer.denoise import denoise_chroma
from transfer.matching import carry_down, gather, match_positions

Progress = Callable[[int, int, dict[str, float]], None]
BLOCK = 16  # every working size is a multiple of the deepest stride used
MIN_SHORT_SIDE = 48  # 3 positions at relu5_1: the smallest map a 3x3 patch fits in


@dataclass
class Targets:
    """What the output is pulled towards at one scale."""
    content: torch.Tensor
    grams: dict[str, torch.Tensor]
    sorted_hist: dict[str, torch.Tensor]
    # Per layer, the flat positions under the mask; style statistics are taken there only.
    inside: dict[str, torch.Tensor | None]


def _masked(feats: torch.Tensor, inside: torch.Tensor | None) -> torch.Tensor:
    """The (C, 1, N) features at the masked positions, or all of them."""
    flat = feats.reshape(feats.shape[-3], 1, -1)
    return flat if inside is None else flat[:, :, inside]


def _inside(mask: torch.Tensor | None, size: tuple[int, int]) -> torch.Tensor | None:
    if mask is None:
        return None
    inside = (F.interpolate(mask, size=size, mode="area") > 0.5).flatten().nonzero()[:, 0]
    if inside.numel() == 0:
        raise ConfigError("the mask is too small to paint at this size; make it larger")
    return inside


def resolve_schedule(cfg: dict[str, Any], device: torch.device) -> tuple[str, list[float], list[int]]:
    name = cfg["schedule"]
    if name == "auto":
        name = "long" if device.type == "cuda" else "fast"
    if name not in cfg["schedules"]:
        raise ConfigError(f"unknown schedule {name!r}; known: {', '.join(cfg['schedules'])}")
    scales, iterations = cfg["schedules"][name]["scales"], cfg["schedules"][name]["iterations"]
    if len(scales) != len(iterations) or not scales:
        raise ConfigError(f"schedule {name!r} needs as many scales as iteration counts")
    return name, list(scales), list(iterations)


def compute_targets(backbone: Backbone, photo: torch.Tensor, painting: torch.Tensor,
                    cfg: dict[str, Any], mask: torch.Tensor | None = None) -> Targets:
    """Content features, and Grams and histograms of the *matched* painting features
    (under the mask, when there is one)."""
    style_layers, hist_layers = cfg["style_layers"], cfg["hist_layers"]
    layers = {cfg["content_layer"], *style_layers, *hist_layers}
    with torch.no_grad():
        photo_feats = backbone(photo, layers)
        painting_feats = backbone(painting, layers)
    match_layer = style_layers[0]
    positions = match_positions(photo_feats[match_layer][0], painting_feats[match_layer][0])
    grams, sorted_hist, inside = {}, {}, {}
    for layer in set(style_layers) | set(hist_layers):
        factor = stride_of(match_layer) // stride_of(layer)
        matched = gather(painting_feats[layer][0], carry_down(positions, factor))
        inside[layer] = _inside(mask, matched.shape[1:])
        matched = _masked(matched, inside[layer])
        if layer in style_layers:
            grams[layer] = losses.gram(matched)
        if layer in hist_layers:
            sorted_hist[layer] = matched.flatten(1).sort(dim=1).values
    return Targets(photo_feats[cfg["content_layer"]].detach(), grams, sorted_hist, inside)


def loss_terms(backbone: Backbone, image: torch.Tensor, targets: Targets,
               cfg: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Each weighted term of the objective, by name."""
    layers = {cfg["content_layer"], *cfg["style_layers"], *cfg["hist_layers"]}
    feats = backbone(image, layers)
    style = sum(weight * losses.style_loss(_masked(feats[layer], targets.inside[layer]),
                                           targets.grams[layer])
                for layer, weight in zip(cfg["style_layers"], cfg["style_layer_weights"]))
    hist = sum(losses.histogram_loss(_masked(feats[layer], targets.inside[layer]),
                                     targets.sorted_hist[layer])
               for layer in cfg["hist_layers"])
    return {
        "content": cfg["content_weight"] * losses.content_loss(feats[cfg["content_layer"]],
                                                              targets.content),
        "style": cfg["style_weight"] * style,
        "hist": cfg["hist_weight"] * hist,
        "tv": cfg["tv_weight"] * losses.tv_loss(image),
    }


def optimise(backbone: Backbone, start: torch.Tensor, targets: Targets, cfg: dict[str, Any],
             iterations: int, on_step: Callable[[dict[str, float]], None] | None = None
             ) -> torch.Tensor:
    image = start.detach().clone().requires_grad_(True)
    optimiser = torch.optim.Adam([image], lr=cfg["learning_rate"])
    for _ in range(iterations):
        optimiser.zero_grad(set_to_none=True)
        terms = loss_terms(backbone, image, targets, cfg)
        total = sum(terms.values())
        total.backward()
        optimiser.step()
        with torch.no_grad():
            image.clamp_(0, 1)
        if on_step:
            on_step({name: value.item() for name, value in terms.items()} | {"total": total.item()})
    return image.detach()


def working_pair(photo: Image.Image, painting: Image.Image, long_side: int,
                 device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Photo and painting at a common long side, sides multiples of the block size."""
    return (to_tensor(fit_long_side(photo, long_side, BLOCK)).to(device),
            to_tensor(fit_long_side(painting, long_side, BLOCK)).to(device))


def smallest_long_side(*images: Image.Image) -> int:
    """The least long side at which every image keeps a short side of MIN_SHORT_SIDE."""
    return max(math.ceil(MIN_SHORT_SIDE * max(im.size) / min(im.size) / BLOCK) * BLOCK
               for im in images)


def _check_layers(cfg: dict[str, Any]) -> None:
    style = cfg["style_layers"]
    if len(cfg["style_layer_weights"]) != len(style):
        raise ConfigError("transfer.style_layer_weights needs one weight per style layer")
    deepest = stride_of(style[0])
    if any(stride_of(layer) > deepest for layer in [*style, *cfg["hist_layers"]]):
        raise ConfigError("the first style layer is the match layer and must be the deepest")


def check_settings(photo: Image.Image, painting: Image.Image, cfg: dict[str, Any]) -> int:
    """Refuse settings that cannot work, before any time is spent; returns the size floor."""
    _check_layers(cfg)
    floor = smallest_long_side(photo, painting)
    if cfg["size"] < floor:
        raise ConfigError(f"size {cfg['size']} is too small for these images; use at least {floor}")
    return floor


def mask_tensor(mask: Image.Image, like: torch.Tensor) -> torch.Tensor:
    """A (1, 1, H, W) mask in [0, 1] at the size of `like`; white is painted."""
    grey = to_tensor(mask.convert("RGB")).mean(1, keepdim=True).to(like.device)
    return F.interpolate(grey, size=like.shape[2:], mode="bilinear", align_corners=False)


def feather(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """Soften the mask edge so the painted region blends into the photo."""
    for _ in range(2):
        mask = F.avg_pool2d(F.pad(mask, (radius,) * 4, mode="replicate"), 2 * radius + 1, 1)
    return mask


def paint(photo: Image.Image, painting: Image.Image, backbone: Backbone, cfg: dict[str, Any],
          device: torch.device, progress: Progress | None = None,
          mask: Image.Image | None = None) -> torch.Tensor:
    """The photo painted with the painting's pieces, (1, 3, H, W) in [0, 1].

    With a mask, only its white part is painted: style statistics are taken there, the
    rest keeps the photo, and the border is feathered.
    """
    floor = check_settings(photo, painting, cfg)
    _, scales, iterations = resolve_schedule(cfg, device)
    torch.manual_seed(cfg["seed"])
    size = cfg["size"]
    photo_full, painting_full = working_pair(photo, painting, size, device)
    full_mask = mask_tensor(mask, photo_full) if mask is not None else None
    image = matched_collage(photo_full, painting_full, backbone, cfg["collage_layer"],
                            stride_of(cfg["collage_layer"]))
    if full_mask is not None:
        image = full_mask * image + (1 - full_mask) * photo_full
    total_steps, step = sum(iterations), 0
    for scale, count in zip(scales, iterations):
        photo_s, painting_s = working_pair(photo, painting, max(floor, round(size * scale)),
                                           device)
        image = F.interpolate(image, size=photo_s.shape[2:], mode="bicubic",
                              align_corners=False, antialias=True).clamp(0, 1)
        scale_mask = mask_tensor(mask, photo_s) if mask is not None else None
        targets = compute_targets(backbone, photo_s, painting_s, cfg, scale_mask)

        def on_step(values: dict[str, float]) -> None:
            nonlocal step
            step += 1
            if progress:
                progress(step, total_steps, values)

        image = optimise(backbone, image, targets, cfg, count, on_step)
    if image.shape[2:] != photo_full.shape[2:]:
        image = F.interpolate(image, size=photo_full.shape[2:], mode="bicubic",
                              align_corners=False).clamp(0, 1)
    if cfg["chroma_denoise"]:
        image = denoise_chroma(image)
    if full_mask is not None:
        soft = feather(full_mask, max(2, size // 128))
        image = soft * image + (1 - soft) * photo_full
    return image
