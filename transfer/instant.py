"""Instant painting: encode, swap, blend, decode; one pass of two networks instead of
minutes of Adam steps (NNST-D, Kolkin et al. 2022; style swap, Chen & Schmidt 2016).

The photo's relu4_1 features have each 3x3 patch swapped for the painting's best
(transfer/swap.py), are blended back towards the photo's own by the strength, and the
AdaIN decoder (transfer/decoder.py) turns them into pixels; the engine's finish
(chroma denoise, palette or the photo's colours, feathered mask) follows.
"""
from __future__ import annotations

from typing import Any

import torch
from PIL import Image

from artifier.backbone import Backbone
from artifier.errors import ConfigError
from transfer.colour import keep_photo_colour, match_palette
from transfer.decoder import cached_decoder, decode
from transfer.denoise import denoise_chroma
from transfer.engine import feather, mask_tensor, smallest_long_side, working_pair
from transfer.strength import auto_strength, feature_log_ratio
from transfer.swap import blend, centred, descriptors, swap
from transfer.targets import features, inside_positions

DECODED = "relu4_1"  # the layer the decoder inverts
SHALLOW = "relu3_1"  # the layer NNST's descriptor adds


def _layers(cfg: dict[str, Any]) -> set[str]:
    """The layers the painting's encoder pass needs: the decoded one and the
    descriptor's."""
    return {DECODED} | ({SHALLOW} if cfg["instant"]["nnst"] else set())


def _keys(photo: dict[str, torch.Tensor], painting: dict[str, torch.Tensor],
          icfg: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
    """The descriptors the photo's and the painting's patches are compared on."""
    layers = [DECODED, SHALLOW] if icfg["nnst"] else [DECODED]
    maps = [[feats[layer][0] for layer in layers] for feats in (photo, painting)]
    if icfg["centre"]:
        maps = [[centred(m) for m in each] for each in maps]
    return descriptors(*maps)


def _strength(cfg: dict[str, Any], photo: dict[str, torch.Tensor],
              painting: dict[str, torch.Tensor]) -> float:
    if cfg["strength"] != "auto":
        return float(cfg["strength"])
    return auto_strength(feature_log_ratio(photo, painting, set(cfg["style_layers"])))


def check_instant(photo: Image.Image, painting: Image.Image, cfg: dict[str, Any]) -> None:
    """Refuse a size the swap cannot work at, before any time is spent."""
    floor = smallest_long_side(photo, painting)
    if cfg["size"] < floor:
        raise ConfigError(f"size {cfg['size']} is too small for these images; use at least {floor}")


def instant_paint(photo: Image.Image, painting: Image.Image, backbone: Backbone,
                  cfg: dict[str, Any], device: torch.device,
                  mask: Image.Image | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The photo painted in one pass, (1, 3, H, W) in [0, 1], and the correspondence
    the swap took, (h, w, 3) (orientation 0, row, col at relu4_1), as the collage gives
    it (transfer/provenance.py reads it with stride 8).

    `cfg` is the transfer section; its `instant` part picks the descriptor. With a
    mask only its white part is painted, the border feathered.
    """
    check_instant(photo, painting, cfg)
    icfg = cfg["instant"]
    photo_t, painting_t = working_pair(photo, painting, cfg["size"], device)
    layers = _layers(cfg)
    # An automatic strength weighs the photo's and the painting's style layers: taken
    # in the same passes.
    weighed = set(cfg["style_layers"]) if cfg["strength"] == "auto" else set()
    with torch.no_grad():
        photo_feats = features(backbone, photo_t, layers | weighed, cfg["border_pad"])
        painting_feats = features(backbone, painting_t, layers | weighed, cfg["border_pad"])
    strength = _strength(cfg, photo_feats, painting_feats)
    photo_keys, painting_keys = _keys(photo_feats, painting_feats, icfg)
    swapped, positions = swap(photo_feats[DECODED][0], [painting_feats[DECODED][0]],
                              photo_keys, [painting_keys])
    image = decode(cached_decoder(str(device)),
                   blend(photo_feats[DECODED][0], swapped, strength)[None])
    full_mask = mask_tensor(mask, photo_t) if mask is not None else None
    if cfg["chroma_denoise"]:
        image = denoise_chroma(image)
    if cfg["preserve_colour"]:
        image = keep_photo_colour(image, photo_t)
    elif cfg["match_palette"]:
        image = match_palette(image, painting_t, inside_positions(full_mask, photo_t.shape[2:]))
    if full_mask is not None:
        soft = feather(full_mask, max(2, cfg["size"] // 128))
        image = soft * image + (1 - soft) * photo_t
    return image, positions
