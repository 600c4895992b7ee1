"""Transfer speed, side by side in one run on one photo and painting at one size.

Each contender runs in its own process so peak memory is its own. Long runs are timed
for a few iterations and extrapolated; the line says so.

    python bench/transfer_speed.py [--size 512] [--long-steps 8] [--pastiche-steps 4]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
PHOTO = SHARED / "photos" / "chelsea-cat.jpg"
PAINTING = SHARED / "art" / "vincent-van-gogh_the-starry-night-1889.jpg"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_artifier(size: int, schedule: str, steps: int | None, device: str,
                 precision: str = "auto") -> dict:
    import torch

    from artifier.backbone import load_backbone
    from artifier.config import load_config
    from artifier.images import load_image
    from transfer.engine import paint, resolve_schedule

    cfg = load_config()["transfer"] | {"size": size, "schedule": schedule,
                                       "precision": precision}
    dev = torch.device(device)
    backbone = load_backbone(device=dev)
    _, scales, iterations = resolve_schedule(cfg, dev)
    if steps is not None:
        iterations = [min(steps, n) for n in iterations]
        cfg["schedules"] = {schedule: {"scales": scales, "iterations": iterations}}
    stamps: list[float] = []
    start = time.perf_counter()

    def tick(step: int, total: int, values: dict) -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize()
        stamps.append(time.perf_counter())

    paint(load_image(PHOTO), load_image(PAINTING), backbone, cfg, dev, tick)
    total = time.perf_counter() - start
    per_scale, at = [], 0
    for scale, count in zip(scales, iterations):
        chunk = stamps[at:at + count]
        per_scale.append((round(size * scale), (chunk[-1] - chunk[0]) / max(1, len(chunk) - 1)))
        at += count
    gpu_mb = torch.cuda.max_memory_allocated() / 2**20 if dev.type == "cuda" else 0.0
    return {"seconds": total, "per_scale": per_scale, "peak_mb": _peak_mb(),
            "gpu_peak_mb": gpu_mb, "iterations": sum(iterations)}


def run_pastiche(size: int, steps: int, device: str) -> dict:
    from pastiche.pastiche import PasticheArtist

    start = time.perf_counter()
    artist = PasticheArtist(str(PHOTO), [str(PAINTING)], size=size, device=device)
    setup = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(steps):
        artist.draw()
    per_step = (time.perf_counter() - start) / steps
    return {"setup": setup, "per_step": per_step, "peak_mb": _peak_mb()}


def _child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--long-steps", type=int, default=8)
    parser.add_argument("--pastiche-steps", type=int, default=4)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="auto",
                        help="float32, bfloat16 or auto for the Artifier rows")
    parser.add_argument("--child", nargs="*")
    args = parser.parse_args()
    if args.child is not None:
        kind, *rest = args.child
        if kind == "artifier":
            schedule, steps = rest[0], (int(rest[1]) if len(rest) > 1 else None)
            result = run_artifier(args.size, schedule, steps, args.device, args.precision)
        else:
            result = run_pastiche(args.size, int(rest[0]), args.device)
        print(json.dumps(result))
        return

    common = ["--size", str(args.size), "--device", args.device, "--precision", args.precision]
    fast = _child([*common, "--child", "artifier", "fast"])
    long = _child([*common, "--child", "artifier", "long", str(args.long_steps)])
    past = (_child([*common, "--child", "pastiche", str(args.pastiche_steps)])
            if importlib.util.find_spec("pastiche") else None)
    long_per = long["per_scale"][0][1]
    long_total = long["seconds"] - args.long_steps * long_per + 1000 * long_per
    print(f"photo {PHOTO.name}, painting {PAINTING.name}, {args.size} px long side, "
          f"device {args.device}")
    print("| run | iterations | s per image | s per iteration (px: s) | peak MB |")
    print("|---|---|---|---|---|")
    per = ", ".join(f"{px}: {s:.3f}" for px, s in fast["per_scale"])
    print(f"| Artifier fast (default on CPU) | {fast['iterations']} | {fast['seconds']:.1f} "
          f"| {per} | {fast['peak_mb']:.0f} |")
    print(f"| Artifier long, 1000 Adam | 1000 | {long_total:.1f} (from {args.long_steps}) "
          f"| {args.size}: {long_per:.3f} | {long['peak_mb']:.0f} |")
    if past:
        past_total = past["setup"] + 1000 * past["per_step"]
        print(f"| pastiche 1.6.0, 1000 L-BFGS | 1000 | {past_total:.1f} (from "
              f"{args.pastiche_steps}) | {args.size}: {past['per_step']:.3f} "
              f"| {past['peak_mb']:.0f} |")
        print(f"pastiche: {past_total / fast['seconds']:.1f}x slower than the fast schedule")
    else:
        print("pastiche is not installed here: its row is skipped")
    if args.device.startswith("cuda"):
        print(f"GPU peak MB: fast {fast['gpu_peak_mb']:.0f}, long {long['gpu_peak_mb']:.0f}")
    print(f"fast schedule is {long_total / fast['seconds']:.1f}x quicker than the long one")


if __name__ == "__main__":
    main()
