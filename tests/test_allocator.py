"""Freed buffers are kept for reuse (core/allocator.py), and a CPU painting asks for it.

Each case runs in a fresh interpreter: malloc's thresholds are the process's, for good.
Page faults are counted, not time, so the machine's noise cannot flip the result."""
import subprocess
import sys
import textwrap

import pytest

# Faults of allocating, filling and freeing a 64 MB buffer four times.
FAULTS = """
import resource, torch
def faults():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(4):
        torch.empty(16 << 20).fill_(1.0)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
"""


def _run(body: str) -> list[int]:
    out = subprocess.run([sys.executable, "-c", FAULTS + textwrap.dedent(body)],
                         capture_output=True, text=True, check=True)
    return [int(word) for word in out.stdout.split()]


def test_a_freed_buffer_is_reused_instead_of_faulted_in_again():
    """Without it every 64 MB buffer is a fresh mapping: 4 x 16,384 page faults."""
    plain, done, kept = _run("""
        from core.allocator import keep_freed_memory
        print(faults())
        print(int(keep_freed_memory()))
        print(min(faults() for _ in range(4)))  # the first grows the heap
    """)
    if not done:
        pytest.skip("malloc here is not glibc's: no mallopt")
    assert plain >= 4 * 16_000
    assert kept < plain // 8


def test_a_cpu_painting_keeps_freed_buffers(photo_path, painting_path):
    if sys.platform != "linux":
        pytest.skip("glibc's malloc only")
    (after_painting,) = _run(f"""
        from core.backbone import load_backbone
        from core.config import load_config
        from core.images import load_image
        from transfer.engine import paint
        cfg = load_config(overrides=["transfer.size=96", 'transfer.schedule="fast"',
                                     "transfer.schedules.fast.iterations=[1, 1, 1]"])
        paint(load_image({str(photo_path)!r}), load_image({str(painting_path)!r}),
              load_backbone("vgg19-caffe"), cfg["transfer"], torch.device("cpu"))
        print(min(faults() for _ in range(4)))
    """)
    assert after_painting < 4 * 16_000 // 8
