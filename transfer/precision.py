"""Arithmetic precision of the optimisation's network passes.

The forward and backward passes through VGG are nearly all of an iteration's cost.
bfloat16 autocast runs them at half the bytes and on tensor cores; the losses (Grams,
sorted histograms) stay in float32, where bfloat16's 8-bit mantissa would blur them.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

import torch

from core.errors import ConfigError

PRECISIONS = ("auto", "float32", "bfloat16")


def native_bfloat16_cpu() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AVX512-BF16 or AMX). Others
    emulate it: on this project's AVX2 machines a 256 px forward and backward pass took
    17-60 s in bfloat16 against 0.44 s in float32."""
    capabilities = torch.cpu.get_capabilities()
    return bool(capabilities.get("avx512_bf16") or capabilities.get("amx_bf16"))


def resolve_precision(name: str, device: torch.device) -> str:
    """auto: bfloat16 on CUDA and on a CPU with native bfloat16, else float32."""
    if name not in PRECISIONS:
        raise ConfigError(f"unknown precision {name!r}; use {', '.join(PRECISIONS)}")
    if name == "auto":
        native = device.type == "cuda" or (device.type == "cpu" and native_bfloat16_cpu())
        return "bfloat16" if native else "float32"
    return name


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


def network_precision(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """The context the network passes run in: bfloat16 autocast, or float32."""
    if precision == "bfloat16":
        # No cache of cast weights: a CUDA graph (transfer/cuda_graph.py) cannot hold one.
        return torch.autocast(device.type, dtype=torch.bfloat16, cache_enabled=False)
    return contextlib.nullcontext()
