"""VGG layer names and strides, without torch: the config checks them before any network loads."""
from __future__ import annotations

BLOCK_DEPTHS = {"vgg19": (2, 2, 4, 4, 4), "vgg16": (2, 2, 3, 3, 3)}


def layer_names(arch: str) -> list[str]:
    """Names of torchvision's `features` modules in order: conv1_1, relu1_1, ..., pool5."""
    names = []
    for block, depth in enumerate(BLOCK_DEPTHS[arch], start=1):
        for i in range(1, depth + 1):
            names += [f"conv{block}_{i}", f"relu{block}_{i}"]
        names.append(f"pool{block}")
    return names


def stride_of(layer: str) -> int:
    """Pixels per feature position at a layer: 1 in block 1, 2 in block 2, ..."""
    return 2 ** (int(layer[len(layer.rstrip("0123456789_")):].split("_")[0]) - 1)


def arch_of(backbone: str) -> str:
    """The architecture behind a backbone name: vgg16-torchvision is a vgg16, the rest vgg19."""
    return "vgg16" if backbone.startswith("vgg16") else "vgg19"
