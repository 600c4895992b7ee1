"""Instant painting: encode, swap, blend, decode; one pass of two networks instead of
minutes of Adam steps (NNST-D, Kolkin et al. 2022; style swap, Chen & Schmidt 2016).

The photo, seen part of the way in the painting's palette, has each 3x3 patch of its
relu4_1 features swapped for the painting's best (transfer/swap.py); the swap is
blended back towards the photo's own features by the strength, and the AdaIN decoder
(transfer/decoder.py) turns them into pixels, its lattice evened (transfer/lattice.py);
every painting's finish (transfer/finish.py: chroma denoise, palette or the photo's
colours, mask) follows.
"""
from __future__ import annotations

from typing import Any, Callable

import torch
from PIL import Image

from core.backbone import Backbone
from core.precision import network_precision, resolve_precision
from transfer.blend import palette_source, piece_shares
from transfer.checks import as_list, check_settings, working_set
from transfer.colour import match_palette
from transfer.decoder import LATTICE, cached_decoder, decode
from transfer.finish import finish, mask_tensor
from transfer.lattice import even_lattice
from transfer.swap import (blend, centred, descriptors, kept_structure, mixture_moments, swap,
                           with_moments)
from transfer.targets import features

DECODED = "relu4_1"  # the layer the decoder inverts
SHALLOW = "relu3_1"  # the layer NNST's descriptor adds


def _layers(cfg: dict[str, Any]) -> set[str]:
    """The layers the swap needs: the decoded one and the descriptor's."""
    return {DECODED} | ({SHALLOW} if cfg["instant"]["nnst"] else set())


def _keys(photo: dict[str, torch.Tensor], paintings: list[dict[str, torch.Tensor]],
          icfg: dict[str, Any]) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The descriptors the photo's and the paintings' patches are compared on."""
    layers = [DECODED, SHALLOW] if icfg["nnst"] else [DECODED]
    maps = [[feats[layer][0] for layer in layers] for feats in (photo, *paintings)]
    if icfg["centre"]:
        maps = [[centred(m) for m in each] for each in maps]
    return descriptors(maps[0], maps[1:])


def pair_strength(cfg: dict[str, Any]) -> float:
    """The strength as set; "auto" is 1, the swap's share then set per position by what
    it leaves of the photo's structure (`swapped`)."""
    return 1.0 if cfg["strength"] == "auto" else float(cfg["strength"])


def swap_share(strength: float, cfg: dict[str, Any]) -> float:
    """The swap's share of the blend at this strength: `instant.strength_power` keeps 0
    and 1 the ends."""
    return strength ** cfg["instant"]["strength_power"]


def seen_photo(photo: torch.Tensor, paintings: list[torch.Tensor], strength: float,
               cfg: dict[str, Any]) -> torch.Tensor:
    """The photo as the swap sees it: `instant.recolour_photo` of the way (times the
    swap's share) to the paintings' palette, so a patch finds the piece that plays its
    part in the painting's colours (NNST recolours the photo fully): a dark forest under
    the Great Wave then meets the wave's dark blue, not its blank paper."""
    towards = swap_share(strength, cfg) * cfg["instant"]["recolour_photo"]
    if towards == 0:
        return photo
    palette = palette_source(paintings, [1 / len(paintings)] * len(paintings))
    return torch.lerp(photo, match_palette(photo, palette), towards)


def encode(backbone: Backbone, photo: torch.Tensor, paintings: list[torch.Tensor],
           strength: float, cfg: dict[str, Any]
           ) -> tuple[dict[str, torch.Tensor], list[dict[str, torch.Tensor]]]:
    """The features of the photo as the swap sees it (`seen_photo`) and of each painting,
    at the layers the swap needs. The network runs in `transfer.precision` (bfloat16 on
    a CPU that has it: 0.57 s against 0.79 at 512 px on an AVX512-BF16 EPYC)."""
    layers = _layers(cfg)
    kept = []
    precision = resolve_precision(cfg["precision"], photo.device)
    with torch.no_grad(), network_precision(precision, photo.device):
        for image in (seen_photo(photo, paintings, strength, cfg), *paintings):
            feats = features(backbone, image, layers, cfg["border_pad"])
            # The swap compares and blends in float32, as the optimisation's losses do.
            kept.append({layer: feats[layer].float().contiguous() for layer in layers})
            del feats
    return kept[0], kept[1:]


def swapped(photo: dict[str, torch.Tensor], paintings: list[dict[str, torch.Tensor]],
            strength: float, cfg: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
    """The features to decode, (1, 512, h, w): the photo's relu4_1 blended towards its
    swap from the union of the paintings' patches; the swap's share is the
    strength to the power `instant.strength_power` (0 and 1 stay the ends) times, at
    each position, `kept_structure` to `instant.keep_photo_power`. The blend's channel
    means and deviations then move that share of `instant.painting_moments` of the way
    to the paintings'. Also the swap's correspondence (its first column names the
    painting)."""
    icfg = cfg["instant"]
    photo_keys, painting_keys = _keys(photo, paintings, icfg)
    maps = [p[DECODED][0] for p in paintings]
    swap_feats, positions = swap(photo[DECODED][0], maps, photo_keys, painting_keys)
    overall = swap_share(strength, cfg)
    share = overall * kept_structure(photo[DECODED][0], swap_feats, icfg["keep_photo_power"])
    feats = blend(photo[DECODED], swap_feats[None], share)
    towards = overall * icfg["painting_moments"]
    if towards > 0:
        own = mixture_moments([feats[0]], [1.0])
        theirs = mixture_moments(maps, piece_shares(positions, len(maps)))
        feats = with_moments(feats[0], *(torch.lerp(a, b, towards) for a, b in zip(own, theirs)))
    return feats.reshape_as(photo[DECODED]), positions


def decoded(feats: torch.Tensor, cfg: dict[str, Any]) -> torch.Tensor:
    """The features as pixels (1, 3, H, W): the AdaIN decoder, its lattice evened where
    `instant.even_lattice` says."""
    image = decode(cached_decoder(str(feats.device)), feats)  # decode runs without autograd
    return even_lattice(image, LATTICE) if cfg["instant"]["even_lattice"] else image


def _decoded(photo: torch.Tensor, paintings: list[torch.Tensor], backbone: Backbone,
             cfg: dict[str, Any], mask: Image.Image | None
             ) -> tuple[torch.Tensor, torch.Tensor, float]:
    strength = pair_strength(cfg)
    photo_feats, painting_feats = encode(backbone, photo, paintings, strength, cfg)
    feats, positions = swapped(photo_feats, painting_feats, strength, cfg)
    image = decoded(feats, cfg)
    cover = mask_tensor(mask, photo) if mask is not None else None
    palette = palette_source(paintings, piece_shares(positions, len(paintings), cover))
    rotations = (cfg["instant"]["palette_rotations"], cfg["instant"]["palette_rounds"])
    finished = finish(image, photo, palette, cfg, mask, rotations)
    return finished, positions, strength


def instant_paint(photo: Image.Image, painting: Image.Image | list[Image.Image],
                  backbone: Backbone, cfg: dict[str, Any], device: torch.device,
                  mask: Image.Image | None = None) -> tuple[torch.Tensor, torch.Tensor, float]:
    """The photo painted in one pass, (1, 3, H, W) in [0, 1], the strength used (the
    pair's own when "auto"), and the correspondence the swap took, (h, w, 3) (painting,
    row, col at relu4_1), as the collage gives it (transfer/provenance.py reads it with
    stride 8). A list of paintings is a blend (transfer/blend.py).

    `cfg` is the transfer section; its `instant` part picks the descriptor. With a
    mask only its white part is painted, the border feathered.
    """
    check_settings(photo, painting, cfg, mask)
    photo_t, paintings_t = working_set(photo, painting, cfg["size"], device)
    return _decoded(photo_t, paintings_t, backbone, cfg, mask)


def swap_start(cfg: dict[str, Any]) -> Callable[..., tuple[torch.Tensor, torch.Tensor]]:
    """The decoded swap, at full share, as an optimisation's start in place of the collage
    (the engine fades it towards the photo by the strength, as it does the collage);
    it takes the collage's arguments and returns the image and its correspondence."""
    # The plain full swap, as the quick schedule was measured from, its lattice evened:
    # L-BFGS's small steps kept it (judged grid 1.100 from the plain swap, 1.052 evened).
    plain = {"keep_photo_power": 0.0, "painting_moments": 0.0, "recolour_photo": 0.0}
    full = cfg | {"strength": 1.0, "instant": cfg["instant"] | plain}

    def start(photo: torch.Tensor, painting: torch.Tensor | list[torch.Tensor],
              backbone: Backbone, *_: Any) -> tuple[torch.Tensor, torch.Tensor]:
        return _decoded(photo, as_list(painting), backbone, full, None)[:2]

    return start
