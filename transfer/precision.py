"""TF32 while painting. The precision of the network passes (`transfer.precision`) is
resolved in core/precision.py, as the index's and the query's are; under bfloat16 the
losses (Grams, sorted histograms) stay in float32, where its 8-bit mantissa would blur them.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

import torch


@contextlib.contextmanager
def tf32_allowed(device: torch.device) -> Iterator[None]:
    """Let CUDA's float32 convolutions and matmuls use TF32 tensor cores while painting.

    The switch is process-wide, so it is put back after: the studio retrieves in the
    same process, and its exact scores must stay float32 (TF32 keeps 10 mantissa bits).
    """
    if device.type != "cuda":
        yield
        return
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved

