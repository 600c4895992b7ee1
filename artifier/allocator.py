"""Keep freed memory in the process for reuse, where glibc's malloc would hand it back.

A painting step on the CPU allocates and frees the same few hundred large buffers (each
layer's activations, their gradients, the histogram sorts) every step. glibc serves
blocks above its mmap threshold (128 KiB, raised by itself to at most 32 MiB) with fresh
mappings and unmaps them on free, so every step faults those pages in again, each one
zeroed by the kernel: at 512 px about 240,000 page faults a step, a fifth of its time
(`python bench/allocator_speed.py`). Raising the mmap and trim thresholds makes malloc
keep the freed blocks in its heap and reuse them. The cost is that the process keeps its
peak heap after a painting instead of returning it; the next painting reuses it.
"""
from __future__ import annotations

import ctypes
from functools import lru_cache

# mallopt's parameters (malloc.h), and the threshold set for both: a 512 px step's largest
# buffer is about 50 MB; only buffers over 1 GiB (at 2048 px and more) get their own mapping.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
THRESHOLD = 1 << 30


@lru_cache(maxsize=1)
def keep_freed_memory() -> bool:
    """Set glibc's thresholds once per process; False where malloc is not glibc's."""
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the process's own symbols: libc's on Linux
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD,
                                                                          THRESHOLD))
