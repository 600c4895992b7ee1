"""A step of the optimisation recorded once as a CUDA graph and replayed.

On an H200 an eager step takes 6.6-7.7 ms whether the image is 128 or 512 px, in float32
or bfloat16 (bench/transfer_speed.py): the hundreds of kernel launches Python makes per
step set the pace, not the arithmetic. A graph replays every kernel of the step (network,
losses, backward, Adam, clamp) in one launch. Its tensors are fixed: the image is updated
in place, the targets stay alive, and the returned loss terms are overwritten each replay.
"""
from __future__ import annotations

from typing import Callable, TypeVar

import torch

T = TypeVar("T")
# Eager steps before capture, on a side stream as capture asks: they let autograd, cuDNN
# and the allocator settle, and each is a real step of the optimisation.
WARMUP = 3


def graphed(step: Callable[[], T], warmup: int = WARMUP) -> Callable[[], T]:
    """`step` run eagerly `warmup` times, then captured once and replayed: every call is one
    step, and the captured one runs on its first replay."""
    side = torch.cuda.Stream()
    graph: torch.cuda.CUDAGraph | None = None
    captured: T | None = None
    calls = 0

    def run() -> T:
        nonlocal graph, captured, calls
        calls += 1
        if calls <= warmup:
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                result = step()
            torch.cuda.current_stream().wait_stream(side)
            return result
        if graph is None:
            graph = torch.cuda.CUDAGraph()
            # thread_local: the studio retrieves on another thread while a painting
            # captures; the default, global, would fail that thread's copies and syncs.
            with torch.cuda.graph(graph, capture_error_mode="thread_local"):
                captured = step()
        graph.replay()
        return captured

    return run
