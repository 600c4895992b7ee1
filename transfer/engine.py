"""The optimisation: coarse to fine, Adam or L-BFGS on the pixels, from the matched collage
or the decoded swap."""
from __future__ import annotations

import math
from typing import Any, Callable

import torch
import torch.nn.functional as F
from PIL import Image

from core.allocator import keep_freed_memory
from core.backbone import Backbone
from core.layers import stride_of
from core.errors import ConfigError
from core.images import fit_blocks, to_tensor
from core.precision import network_precision, resolve_precision
from transfer import losses
from transfer.adam import adam
from transfer.blend import blended_targets, palette_source, piece_shares
from transfer.checks import check_settings, working_set
from transfer.collage import collage_and_matches
from transfer.cuda_graph import graphed
from transfer.detail import resized, with_detail
from transfer.finish import finish, mask_tensor
from transfer.instant import swap_start
from transfer.lbfgs import lbfgs
from transfer.precision import tf32_allowed
from transfer.strength import resolve_strength, start_image, with_strength
from transfer.targets import Targets, features, masked
from transfer.tiled import tiled_backward

# (step, steps in all, the loss terms last read, the image now): step 0 is the start.
Progress = Callable[[int, int, dict[str, float], torch.Tensor], None]
# Steps between reading the losses back for progress: on CUDA each read waits for the
# device, so reading every step would stall the queue of kernels.
REPORT_EVERY = 10
# The schedule that paints in one pass, without steps: the decoded patch swap.
INSTANT = "instant"


def resolve_schedule(cfg: dict[str, Any], device: torch.device) -> tuple[str, list[float], list[int]]:
    name = cfg["schedule"]
    if name == "auto":
        name = "long" if device.type == "cuda" else "quick"
    if name == INSTANT:
        return name, [1.0], [1]  # one pass: the decoded swap (transfer/instant.py)
    if name not in cfg["schedules"]:
        raise ConfigError(f"unknown schedule {name!r}; known: {', '.join(cfg['schedules'])}")
    # The config's checks hold each schedule to lists of one length (core/config_checks.py).
    scales, iterations = cfg["schedules"][name]["scales"], cfg["schedules"][name]["iterations"]
    return name, list(scales), list(iterations)


def schedule_start(cfg: dict[str, Any], device: torch.device) -> str:
    """What the schedule in use starts its optimisation from: "collage" or "swap"."""
    name = resolve_schedule(cfg, device)[0]
    return "swap" if name == INSTANT else cfg["schedules"][name].get("start", "collage")


def start_maker(cfg: dict[str, Any], device: torch.device) -> Callable:
    """What makes the schedule's start and its correspondence: the matched collage, or
    the decoded swap."""
    return swap_start(cfg) if schedule_start(cfg, device) == "swap" else collage_and_matches


def schedule_optimiser(cfg: dict[str, Any], device: torch.device) -> str:
    """What moves the pixels in the schedule in use: "adam" or "lbfgs"."""
    name = resolve_schedule(cfg, device)[0]
    return "adam" if name == INSTANT else cfg["schedules"][name].get("optimiser", "adam")


def pixel_terms(image: torch.Tensor, targets: Targets,
                cfg: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The weighted terms on the pixels themselves: colour histogram and smoothness."""
    return {
        "colour": cfg["colour_weight"] * losses.histogram_loss(
            masked(image, targets.inside["pixels"]), targets.sorted_pixels),
        "tv": cfg["tv_weight"] * losses.tv_loss(image),
    }


def loss_terms(backbone: Backbone, image: torch.Tensor, targets: Targets,
               cfg: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Each weighted term of the objective, by name."""
    layers = {cfg["content_layer"], *cfg["style_layers"], *cfg["hist_layers"]}
    with network_precision(cfg["precision"], image.device):
        feats = features(backbone, image, layers, cfg["border_pad"])
    # The network's values rank the same in its own dtype (bfloat16 under autocast).
    rank_dtype = next(iter(feats.values())).dtype
    # One copy per layer: to float32, and out of channels-last and the border's crop, so
    # every term below reads a plain (C, N) view.
    feats = {layer: f.to(torch.float32, memory_format=torch.contiguous_format)
             for layer, f in feats.items()}
    style = sum(weight * losses.style_loss(masked(feats[layer], targets.inside[layer]),
                                           targets.grams[layer])
                for layer, weight in zip(cfg["style_layers"], cfg["style_layer_weights"]))
    hist = sum(losses.histogram_loss(masked(feats[layer], targets.inside[layer]),
                                     targets.sorted_hist[layer], rank_dtype)
               for layer in cfg["hist_layers"])
    return {
        "content": cfg["content_weight"] * losses.content_loss(feats[cfg["content_layer"]],
                                                              targets.content),
        "style": cfg["style_weight"] * style,
        "hist": cfg["hist_weight"] * hist,
    } | pixel_terms(image, targets, cfg)


def optimise(backbone: Backbone, start: torch.Tensor, targets: Targets, cfg: dict[str, Any],
             iterations: int,
             on_step: Callable[[dict[str, float], torch.Tensor], None] | None = None,
             tile: int | None = None, optimiser: str = "adam") -> torch.Tensor:
    """Adam (or L-BFGS) on the pixels; with `tile`, each step's gradient is taken in
    tiles of at most that many pixels a side (transfer/tiled.py), the same gradient in
    less memory. On CUDA an Adam step is replayed as a CUDA graph (transfer/cuda_graph.py);
    L-BFGS reads numbers back every step, so it is not."""
    image = start.detach().clone().requires_grad_(True)
    graph = image.is_cuda and cfg["cuda_graph"] and not tile and optimiser == "adam"
    move = adam(image, cfg["learning_rate"]) if optimiser == "adam" else lbfgs(image)

    def step() -> dict[str, torch.Tensor]:
        image.grad = None
        if tile:
            terms = tiled_backward(backbone, image, targets, cfg, tile,
                                   pixel_terms(image, targets, cfg))
        else:
            terms = loss_terms(backbone, image, targets, cfg)
            sum(terms.values()).backward()
        move()
        with torch.no_grad():
            image.clamp_(0, 1)
        return terms

    run = graphed(step) if graph else step
    values: dict[str, float] = {}
    for i in range(iterations):
        terms = run()
        if i % REPORT_EVERY == 0 or i == iterations - 1:
            # One read back for all the terms: each read waits for the device.
            read = torch.stack([value.detach() for value in terms.values()]).tolist()
            values = dict(zip(terms, read))
            values["total"] = sum(read)
            check_finite(values, optimiser)
        if on_step:
            on_step(values, image.detach())
    return image.detach()


# The setting that scales each term of the loss.
TERM_SETTINGS = {"content": "content_weight", "style": "style_weight", "hist": "hist_weight",
                 "colour": "colour_weight", "tv": "tv_weight"}


def check_finite(values: dict[str, float], optimiser: str) -> None:
    """Stop a painting whose loss overflowed: from there on every step would be NaN and
    the result a black image written as if it had worked. The message names the weights
    of the terms that overflowed, and Adam's learning rate (L-BFGS has none)."""
    bad = [term for term in TERM_SETTINGS if not math.isfinite(values.get(term, 0.0))]
    if not bad and math.isfinite(values["total"]):
        return
    suspects = [f"transfer.{TERM_SETTINGS[term]}" for term in bad]
    if optimiser == "adam":
        suspects.append("transfer.learning_rate")
    raise ConfigError(f"the painting's loss became {values['total']} "
                      f"({', '.join(bad) or 'total'}); lower {' or '.join(suspects)}")


def paint(photo: Image.Image, painting: Image.Image | list[Image.Image], backbone: Backbone,
          cfg: dict[str, Any], device: torch.device, progress: Progress | None = None,
          mask: Image.Image | None = None, collage: Callable | None = None
          ) -> torch.Tensor:
    """The photo painted with the painting's pieces, (1, 3, H, W) in [0, 1]; a list of
    paintings is a blend (transfer/blend.py).

    With a mask, only its white part is painted: style statistics are taken there, the
    rest keeps the photo, and the border is feathered. `collage` makes the start and its
    correspondence, by default the schedule's own (`start_maker`; the quality benchmark
    swaps in the original's hard-pasted collage). On the CPU, freed buffers are kept for
    the next step's (core/allocator.py).
    """
    if torch.device(device).type == "cpu":
        keep_freed_memory()
    with tf32_allowed(device):
        return _paint(photo, painting, backbone, cfg, device, progress, mask,
                      collage or start_maker(cfg, device))


def _paint(photo: Image.Image, painting: Image.Image | list[Image.Image], backbone: Backbone,
           cfg: dict[str, Any], device: torch.device, progress: Progress | None,
           mask: Image.Image | None, collage: Callable) -> torch.Tensor:
    floor = check_settings(photo, painting, cfg, mask)
    _, scales, iterations = resolve_schedule(cfg, device)
    optimiser = schedule_optimiser(cfg, device)
    torch.manual_seed(cfg["seed"])
    size = cfg["size"]
    photo_full, paintings_full = working_set(photo, painting, size, device)
    cfg = with_strength(resolve_strength(cfg, backbone, photo_full, paintings_full[0]))
    cfg = cfg | {"precision": resolve_precision(cfg["precision"], device)}
    if cfg["strength"] == 0:
        return photo_full
    full_mask = mask_tensor(mask, photo_full) if mask is not None else None
    # The decoded swap is a painting in its own right: each scale keeps its fine detail.
    keep_detail = schedule_start(cfg, device) == "swap"
    canvas, positions = collage(photo_full, paintings_full if len(paintings_full) > 1
                                else paintings_full[0], backbone, cfg["collage_layer"],
                                stride_of(cfg["collage_layer"]), cfg["orientations"])
    shares = piece_shares(positions, len(paintings_full), full_mask)
    image = start_image(canvas, photo_full, cfg["strength"])
    if full_mask is not None:
        image = full_mask * image + (1 - full_mask) * photo_full
    start = image
    total_steps, step = sum(iterations), 0
    if progress:
        progress(0, total_steps, {}, image)
    for number, (scale, count) in enumerate(zip(scales, iterations)):
        photo_s, paintings_s = working_set(photo, painting, max(floor, round(size * scale)),
                                           device)
        image = (with_detail(image, start, photo_s.shape[2:]) if keep_detail and number
                 else resized(image, photo_s.shape[2:]).clamp(0, 1))
        scale_mask = mask_tensor(mask, photo_s) if mask is not None else None
        targets = blended_targets(backbone, photo_s, paintings_s, shares, cfg, scale_mask)

        def on_step(values: dict[str, float], now: torch.Tensor) -> None:
            nonlocal step
            step += 1
            if progress:
                progress(step, total_steps, values, now)

        tile = cfg["tile"] if max(photo_s.shape[2:]) > cfg["tile"] else None
        image = optimise(backbone, image, targets, cfg, count, on_step, tile, optimiser)
    if image.shape[2:] != photo_full.shape[2:]:
        image = F.interpolate(image, size=photo_full.shape[2:], mode="bicubic",
                              align_corners=False).clamp(0, 1)
    return finish(image, photo_full, palette_source(paintings_full, shares), cfg, mask)
