"""Arithmetic precision of the optimisation's network passes.

The forward and backward passes through VGG are nearly all of an iteration's cost.
bfloat16 autocast runs them at half the bytes and on tensor cores; the losses (Grams,
sorted histograms) stay in float32, where bfloat16's 8-bit mantissa would blur them.
"""
from __future__ import annotations

import contextlib

import torch

from artifier.errors import ConfigError

PRECISIONS = ("auto", "float32", "bfloat16")


def resolve_precision(name: str, device: torch.device) -> str:
    """auto: bfloat16 on CUDA, float32 on the CPU (a CPU without native bfloat16, as
    this project's machines are, emulates it and runs slower: bench/transfer_speed.py)."""
    if name not in PRECISIONS:
        raise ConfigError(f"unknown precision {name!r}; use {', '.join(PRECISIONS)}")
    if name == "auto":
        return "bfloat16" if device.type == "cuda" else "float32"
    return name


def allow_tf32(device: torch.device) -> None:
    """Let CUDA's float32 convolutions and matmuls use TF32 tensor cores (a process-wide
    switch, so it is set once per painting, not per iteration)."""
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


def network_precision(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """The context the network passes run in: bfloat16 autocast, or float32."""
    if precision == "bfloat16":
        # No cache of cast weights: a CUDA graph (transfer/cuda_graph.py) cannot hold one.
        return torch.autocast(device.type, dtype=torch.bfloat16, cache_enabled=False)
    return contextlib.nullcontext()
