"""Arithmetic precision of the network's passes: float32, or bfloat16 where it is native.

bfloat16 autocast runs VGG's convolutions at half the bytes and, on CUDA and on CPUs with
bfloat16 instructions (AVX512-BF16, AMX), at up to twice the float32 rate. Painting,
index builds and queries all resolve their setting here, so `auto` means the same thing
for each.
"""
from __future__ import annotations

import contextlib

import torch

from core.config_checks import PRECISIONS
from core.errors import ConfigError


def native_bfloat16_cpu() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AVX512-BF16 or AMX). Others
    emulate it: on this project's AVX2 machines a 256 px forward and backward pass took
    17-60 s in bfloat16 against 0.44 s in float32."""
    capabilities = torch.cpu.get_capabilities()
    return bool(capabilities.get("avx512_bf16") or capabilities.get("amx_bf16"))


def resolve_precision(name: str, device: torch.device | str) -> str:
    """auto: bfloat16 on CUDA and on a CPU with native bfloat16, else float32."""
    if name not in PRECISIONS:
        raise ConfigError(f"unknown precision {name!r}; use {', '.join(PRECISIONS)}")
    if name == "auto":
        kind = torch.device(device).type
        native = kind == "cuda" or (kind == "cpu" and native_bfloat16_cpu())
        return "bfloat16" if native else "float32"
    return name


def network_precision(precision: str, device: torch.device | str
                      ) -> contextlib.AbstractContextManager:
    """The context the network passes run in: bfloat16 autocast, or float32."""
    if precision == "bfloat16":
        # No cache of cast weights: a CUDA graph (transfer/cuda_graph.py) cannot hold one.
        return torch.autocast(torch.device(device).type, dtype=torch.bfloat16,
                              cache_enabled=False)
    return contextlib.nullcontext()
