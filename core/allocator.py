"""Keep freed memory in the process for reuse, where glibc's malloc would hand it back.

A painting step on the CPU allocates and frees the same few hundred large buffers (each
layer's activations, their gradients, the histogram sorts) every step. glibc serves
blocks above its mmap threshold (128 KiB, raised by itself to at most 32 MiB) with fresh
mappings and unmaps them on free, so every step faults those pages in again, each one
zeroed by the kernel: at 512 px about 245,000 page faults a step, and the step takes
1.60 s where it takes 1.20 s without them (`python bench/allocator_speed.py`). Raising
the mmap and trim thresholds makes malloc keep the freed blocks in its heap and reuse
them. The cost is a higher peak (2.1 against 1.8 GB at 512 px), kept after a painting
instead of returned; the next painting, the studio's too, reuses it.
"""
from __future__ import annotations

import ctypes
from functools import lru_cache

# mallopt's parameters (malloc.h), and the threshold set for both: a 512 px step's largest
# buffer is about 50 MB. At 64 MB a 2048 px step's large buffers were mapped afresh again
# and the step took 55 s against 25 (docs/benchmarks.md, "Large sizes"), so only over 1 GiB.
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
