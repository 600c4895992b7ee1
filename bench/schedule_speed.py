"""Schedules side by side: each pair painted under each schedule in turn (A B A B ..., so a
busy machine slows them alike), wall seconds per painting and the ratio to the first.

    python bench/schedule_speed.py [--schedules fast,quick] [--pairs 3] [--size 512]

The pairs are the quality benchmark's first ones (bench/quality.py); the network is
loaded once, and each schedule paints every pair once before the timed rounds so that
one-time costs (the decoder's weights, oneDNN's kernels) land in no figure.
"""
from __future__ import annotations

import argparse
import time
from statistics import median

import torch

from core.backbone import load_backbone
from core.config import load_config
from core.images import load_image
from quality import PAIRS, SHARED
from transfer.run import paint_pair


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", default="fast,quick")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    names = args.schedules.split(",")
    device = torch.device("cpu")
    backbone = load_backbone("vgg19-caffe", device=device)
    cfgs = {name: load_config(overrides=[f"transfer.size={args.size}",
                                         f'transfer.schedule="{name}"'])["transfer"]
            for name in names}
    pairs = [(load_image(SHARED / "photos" / p), load_image(SHARED / "art" / a))
             for p, a in PAIRS[:args.pairs]]
    print(f"{torch.cpu.get_capabilities()['cpu_name']}, {torch.get_num_threads()} threads, "
          f"{args.size} px, {len(pairs)} pairs")
    for name in names:  # warm-up, untimed
        paint_pair(*pairs[0], backbone, device, cfgs[name])
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(args.rounds):
        for number, (photo, painting) in enumerate(pairs):
            for name in names:
                start = time.perf_counter()
                paint_pair(photo, painting, backbone, device, cfgs[name])
                seconds[name].append(time.perf_counter() - start)
                print(f"  pair {number + 1} {name}: {seconds[name][-1]:.1f} s", flush=True)
    first = sum(seconds[names[0]])
    print("| schedule | median s per painting | total s | share of the first's time |")
    print("|---|---|---|---|")
    for name in names:
        print(f"| {name} | {median(seconds[name]):.1f} | {sum(seconds[name]):.1f} | "
              f"{sum(seconds[name]) / first:.0%} |")


if __name__ == "__main__":
    main()
