"""VGG19's 3x3 convolutions through oneDNN and through NNPACK's Winograd, side by side.

Per layer at a 512 px painting's padded size (368 x 544), forward only, oneDNN in the
layout it is quickest in (channels last) against NNPACK (NCHW, core/winograd.py);
then the whole network as a painting step and a query run it: forward and backward to
relu4_1 at each scale of a 512 px painting of the cat, and the forward to relu5_3 at
224 px. Every row alternates the two routes in one process, the fastest of 3 counts.

    python bench/winograd_speed.py
"""
from __future__ import annotations

import time
from typing import Callable

import torch
import torch.nn.functional as F

from core import winograd
from core.backbone import load_backbone, with_memory_format
from core.layers import stride_of

ROUNDS = 3
# (input height, width, deepest layer, with the backward pass): the padded cat at the
# fast schedule's three scales of 512 px, and a square query.
NETWORK_CASES = [(368, 544, "relu4_1", True), (200, 288, "relu4_1", True),
                 (120, 160, "relu4_1", True), (224, 224, "relu5_3", False)]


def fastest(runs: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Seconds of each run, alternating, the fastest of ROUNDS after one warm-up each."""
    for run in runs.values():
        run()
    best = {name: float("inf") for name in runs}
    for _ in range(ROUNDS):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def layer_table(backbone) -> None:
    print("| layer | map | oneDNN, channels last, ms | NNPACK ms | ratio |\n|---|---|---|---|---|")
    height, width = 368, 544
    for i, module in enumerate(backbone.features[:backbone.names.index("conv4_1") + 1]):
        if not isinstance(module, torch.nn.Conv2d):
            continue
        stride = stride_of(backbone.names[i])
        x = torch.rand(1, module.in_channels, height // stride, width // stride)
        last = x.contiguous(memory_format=torch.channels_last)
        weight_last = module.weight.contiguous(memory_format=torch.channels_last)
        flipped = winograd.flipped_kernel(module.weight)
        with torch.no_grad():
            best = fastest({
                "onednn": lambda: F.conv2d(last, weight_last, module.bias, padding=1),
                "nnpack": lambda: winograd.conv3x3(x, module, flipped)})
        print(f"| {backbone.names[i]} | {module.in_channels}x{x.shape[2]}x{x.shape[3]} "
              f"| {best['onednn'] * 1e3:.1f} | {best['nnpack'] * 1e3:.1f} "
              f"| {best['onednn'] / best['nnpack']:.2f} |", flush=True)


def network_table(backbone) -> None:
    print("\n| pass | oneDNN, channels last, ms | NNPACK where it pays, NCHW, ms | ratio |\n"
          "|---|---|---|---|")
    saved = winograd.MIN_POSITIONS
    for height, width, layer, backward in NETWORK_CASES:
        image = torch.rand(1, 3, height, width)

        def run(route: str) -> None:
            with_memory_format(backbone, channels_last=route == "onednn")
            winograd.MIN_POSITIONS = saved if route == "nnpack" else 10**12
            x = image.clone().requires_grad_(backward)
            with torch.set_grad_enabled(backward):
                out = backbone(x, [layer])[layer]
                if backward:
                    out.square().sum().backward()

        best = fastest({route: lambda route=route: run(route) for route in ("onednn", "nnpack")})
        winograd.MIN_POSITIONS = saved
        what = f"{height} x {width} to {layer}, {'forward and backward' if backward else 'forward'}"
        print(f"| {what} | {best['onednn'] * 1e3:.0f} | {best['nnpack'] * 1e3:.0f} "
              f"| {best['onednn'] / best['nnpack']:.2f} |", flush=True)


def main() -> None:
    if not winograd.available():
        raise SystemExit("NNPACK does not run on this CPU")
    backbone = load_backbone()
    print(f"{torch.get_num_threads()} threads")
    layer_table(backbone)
    network_table(backbone)


if __name__ == "__main__":
    main()
