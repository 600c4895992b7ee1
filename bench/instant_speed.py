"""Instant painting speed: encode, swap, decode (the lattice evened) and finish, per size, with peak memory.

Each size runs in its own process, so its peak resident memory (VmHWM) is its own; the
networks are loaded before the clock starts, and each stage's best of `--repeats` runs
is shown (2048 px runs once).

    python bench/instant_speed.py [--sizes 512,1024,2048] [--repeats 3]
    python bench/instant_speed.py --sizes 512 --precisions float32,bfloat16   # side by side
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
PHOTO = SHARED / "photos" / "chelsea-cat.jpg"
PAINTING = SHARED / "art" / "vincent-van-gogh_the-starry-night-1889.jpg"
STAGES = ("encode", "swap", "decode", "finish")


def cpu_name() -> str:
    for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def peak_mb() -> float:
    """This process's own high-water mark (ru_maxrss would carry the parent's)."""
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_one(size: int, repeats: int, precision: str) -> dict:
    """Best seconds per stage of the instant painting at `size`, its encoder in
    `precision`, and the peak memory."""
    import torch

    from core.backbone import load_backbone
    from core.config import load_config
    from core.images import load_image
    from transfer.checks import working_pair
    from transfer.decoder import cached_decoder
    from transfer.finish import finish
    from transfer.instant import decoded, encode, pair_strength, swapped

    cfg = load_config(overrides=[f"transfer.size={size}",
                                 f'transfer.precision="{precision}"'])["transfer"]
    device = torch.device("cpu")
    backbone = load_backbone(device=device)
    cached_decoder("cpu")  # loaded before the clock, as the backbone is
    photo, painting = working_pair(load_image(PHOTO), load_image(PAINTING), size, device)
    best = {stage: float("inf") for stage in STAGES}
    for _ in range(repeats):
        times = [time.perf_counter()]
        photo_feats, painting_feats = encode(backbone, photo, [painting], pair_strength(cfg),
                                             cfg)
        times.append(time.perf_counter())
        feats, _ = swapped(photo_feats, painting_feats, pair_strength(cfg), cfg)
        del photo_feats, painting_feats
        times.append(time.perf_counter())
        image = decoded(feats, cfg)
        times.append(time.perf_counter())
        finish(image, photo, painting, cfg, rotations=(cfg["instant"]["palette_rotations"],
                                                       cfg["instant"]["palette_rounds"]))
        times.append(time.perf_counter())
        for stage, start, end in zip(STAGES, times, times[1:]):
            best[stage] = min(best[stage], end - start)
    return {"size": size, "shape": list(photo.shape[2:]), **best, "peak_mb": peak_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="512,1024,2048")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--precisions", default="auto",
                        help="transfer.precision values, each size run in each")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--precision", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.repeats, args.precision)))
        return
    print(f"{cpu_name()}, {PHOTO.name} with {PAINTING.name}, default settings")
    print(f"| size | precision | {' | '.join(STAGES)} | total s | peak MB |\n|---|---|"
          + "---|" * 6)
    for size in (int(s) for s in args.sizes.split(",")):
        for precision in args.precisions.split(","):
            repeats = 1 if size >= 2048 else args.repeats
            out = subprocess.run([sys.executable, __file__, "--one", str(size), "--repeats",
                                  str(repeats), "--precision", precision],
                                 capture_output=True, text=True, check=True)
            row = json.loads(out.stdout.splitlines()[-1])
            print(f"| {size} ({row['shape'][1]}x{row['shape'][0]}) | {precision} | "
                  + " | ".join(f"{row[s]:.2f}" for s in STAGES)
                  + f" | {sum(row[s] for s in STAGES):.2f} | {row['peak_mb']:.0f} |",
                  flush=True)


if __name__ == "__main__":
    main()
