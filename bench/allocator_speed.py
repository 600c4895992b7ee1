"""Painting steps on the CPU with glibc's default thresholds and with freed buffers kept
(core/allocator.py), each in its own process, alternating, in one run.

    python bench/allocator_speed.py [--size 512] [--steps 4] [--rounds 2]
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from statistics import median

from step_profile import PAINTING, PHOTO, setup

CONTENDERS = ("glibc defaults", "freed memory kept")


def child(kept: bool, size: int, steps: int) -> dict:
    """Steps of the painting that `step_profile` sets up, timed after two."""
    import torch

    from core.allocator import keep_freed_memory
    from core.config import load_config
    from transfer.engine import optimise
    from transfer.targets import compute_targets

    if kept:
        keep_freed_memory()
    backbone, photo, painting, start, cfg = setup(size, torch.device("cpu"),
                                                  load_config()["transfer"])
    targets = compute_targets(backbone, photo, painting, cfg)
    optimise(backbone, start, targets, cfg, 2)  # warm-up
    before, begin = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    optimise(backbone, start, targets, cfg, steps)
    seconds, after = time.perf_counter() - begin, resource.getrusage(resource.RUSAGE_SELF)
    return {"step": seconds / steps, "sys": (after.ru_stime - before.ru_stime) / steps,
            "faults": (after.ru_minflt - before.ru_minflt) / steps,
            "peak_mb": after.ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", choices=CONTENDERS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child == CONTENDERS[1], args.size, args.steps)))
        return
    runs: dict[str, list[dict]] = {name: [] for name in CONTENDERS}
    for _ in range(args.rounds):
        for name in CONTENDERS:
            out = subprocess.run([sys.executable, __file__, "--child", name, "--size",
                                  str(args.size), "--steps", str(args.steps)],
                                 capture_output=True, text=True, check=True)
            runs[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"{PHOTO.name} x {PAINTING.name}, {args.size} px, CPU, {args.steps} steps timed "
          f"per process after 2, {args.rounds} processes each (median)")
    print("| malloc | s per step | of it in the kernel, s | page faults per step | peak RSS MB "
          "| ratio |\n|---|---|---|---|---|---|")
    base = median(run["step"] for run in runs[CONTENDERS[0]])
    for name, rows in runs.items():
        step = median(run["step"] for run in rows)
        print(f"| {name} | {step:.3f} | {median(r['sys'] for r in rows):.3f} "
              f"| {median(r['faults'] for r in rows):,.0f} "
              f"| {median(r['peak_mb'] for r in rows):.0f} | {step / base:.2f} |")


if __name__ == "__main__":
    main()
