"""Transfer speed, side by side in one run on one photo and painting at one size.

Each contender runs in its own process so peak memory is its own. Long runs are timed
for a few iterations and extrapolated; the line says so. `--sizes` instead times a few
iterations per scale of the fast schedule at each size, for the per-size table of time
and peak memory (2048 px takes minutes per iteration on a CPU).

    python bench/transfer_speed.py [--size 512] [--long-steps 8] [--pastiche-steps 4]
    python bench/transfer_speed.py --sizes 512,1024,2048 --fast-steps 2
    python bench/transfer_speed.py --device cuda --variants float32:nchw:eager,bfloat16:cl:eager
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
# 1000 Adam steps at the full size only: the long schedule until 2026-11-26, and the
# speed issue's measure of a step.
FULL = "full"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_artifier(size: int, schedule: str, steps: int | None, device: str,
                 precision: str = "auto", tile: int | None = None,
                 channels_last: bool | None = None, cuda_graph: bool = True) -> dict:
    import torch

    from core.backbone import load_backbone, with_memory_format
    from core.config import load_config
    from core.images import load_image
    from transfer.engine import paint, resolve_schedule

    cfg = load_config()["transfer"] | {"size": size, "schedule": schedule,
                                       "precision": precision, "cuda_graph": cuda_graph}
    if tile:
        cfg["tile"] = tile
    dev = torch.device(device)
    backbone = load_backbone(device=dev)
    if channels_last is not None:
        backbone = with_memory_format(backbone, channels_last)
    if schedule == FULL:
        cfg["schedules"] = {FULL: {"scales": [1.0], "iterations": [steps or 1000]}}
    _, scales, iterations = resolve_schedule(cfg, dev)
    if steps is not None:
        iterations = [min(steps, n) for n in iterations]
        cfg["schedules"] = {schedule: cfg["schedules"][schedule] | {"iterations": iterations}}
    # Each scale's first and last step, timed after the device has caught up; steps in
    # between run without waiting, as in a painting.
    ends = [sum(iterations[:i]) + k for i in range(len(iterations)) for k in (1, iterations[i])]
    stamps: dict[int, float] = {}
    start = time.perf_counter()

    def tick(step: int, total: int, values: dict, image: torch.Tensor) -> None:
        if step in ends:
            if dev.type == "cuda":
                torch.cuda.synchronize()
            stamps[step] = time.perf_counter()

    paint(load_image(PHOTO), load_image(PAINTING), backbone, cfg, dev, tick)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    total = time.perf_counter() - start
    per_scale = []
    for i, (scale, count) in enumerate(zip(scales, iterations)):
        first, last = ends[2 * i], ends[2 * i + 1]
        per_scale.append((round(size * scale),
                          (stamps[last] - stamps[first]) / max(1, last - first)))
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


def size_table(args: argparse.Namespace) -> None:
    """Per size: seconds per iteration at each scale, the whole fast schedule extrapolated
    from them, and peak memory (the finest scale's step sets it)."""
    import torch

    from core.config import load_config
    from transfer.engine import resolve_schedule

    cfg = load_config()["transfer"]
    _, _, full = resolve_schedule(cfg | {"schedule": "fast"}, torch.device(args.device))
    print(f"photo {PHOTO.name}, painting {PAINTING.name}, device {args.device}, "
          f"{args.fast_steps} iterations timed per scale")
    print("| size | s per iteration (px: s) | fast schedule s (extrapolated) | peak RSS MB "
          "| GPU peak MB |\n|---|---|---|---|---|")
    runs = [(size, None) for size in map(int, args.sizes.split(","))]
    if args.untiled:
        runs += [(size, size) for size, _ in runs if size > cfg["tile"]]
    for size, tile in runs:
        run = _child(["--size", str(size), "--device", args.device, "--precision",
                      args.precision, *(["--tile", str(tile)] if tile else []),
                      "--child", "artifier", "fast", str(args.fast_steps)])
        timed = sum(min(args.fast_steps, n) * s for n, (_, s) in zip(full, run["per_scale"]))
        whole = run["seconds"] - timed + sum(n * s for n, (_, s) in zip(full, run["per_scale"]))
        per = ", ".join(f"{px}: {s:.4f}" for px, s in run["per_scale"])
        name = f"{size}, whole" if tile else f"{size}{', tiled' if size > cfg['tile'] else ''}"
        print(f"| {name} | {per} | {whole:.0f} | {run['peak_mb']:.0f} "
              f"| {run['gpu_peak_mb']:.0f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--long-steps", type=int,
                        help="of the 1000 full-size steps, how many are timed (default: all "
                             "on CUDA, 8 on the CPU; the rest is extrapolated)")
    parser.add_argument("--pastiche-steps", type=int, default=4)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="auto",
                        help="float32, bfloat16 or auto for the Artifier rows")
    parser.add_argument("--sizes", help="comma-separated sizes for the per-size table")
    parser.add_argument("--fast-steps", type=int, default=2,
                        help="iterations timed per scale in the per-size table (at least 2)")
    parser.add_argument("--untiled", action="store_true",
                        help="in the per-size table, also run sizes above transfer.tile whole")
    parser.add_argument("--variants", default="",
                        help="also the 1000 full-size steps under these PRECISION:LAYOUT[:eager], e.g. "
                             "float32:nchw,bfloat16:cl:eager (cl: channels last; eager: no "
                             "CUDA graph)")
    parser.add_argument("--tile", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--layout", choices=("nchw", "cl"), help=argparse.SUPPRESS)
    parser.add_argument("--eager", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", nargs="*")
    args = parser.parse_args()
    if args.long_steps is None:
        args.long_steps = 1000 if args.device.startswith("cuda") else 8
    if args.child is not None:
        kind, *rest = args.child
        if kind == "artifier":
            schedule, steps = rest[0], (int(rest[1]) if len(rest) > 1 else None)
            result = run_artifier(args.size, schedule, steps, args.device, args.precision,
                                  args.tile, {"cl": True, "nchw": False}.get(args.layout),
                                  not args.eager)
        else:
            result = run_pastiche(args.size, int(rest[0]), args.device)
        print(json.dumps(result))
        return

    if args.sizes:
        size_table(args)
        return
    common = ["--size", str(args.size), "--device", args.device, "--precision", args.precision]
    fast = _child([*common, "--child", "artifier", "fast"])
    full = _child([*common, "--child", "artifier", FULL, str(args.long_steps)])
    long = (_child([*common, "--child", "artifier", "long"]) if args.device.startswith("cuda")
            else None)
    past = (_child([*common, "--child", "pastiche", str(args.pastiche_steps)])
            if importlib.util.find_spec("pastiche") else None)
    full_per = full["per_scale"][0][1]
    full_total = full["seconds"] - args.long_steps * full_per + 1000 * full_per
    print(f"photo {PHOTO.name}, painting {PAINTING.name}, {args.size} px long side, "
          f"device {args.device}")
    print("| run | iterations | s per image | s per iteration (px: s) | peak MB |")
    print("|---|---|---|---|---|")
    for name, run in (("fast (default on CPU)", fast), ("long (default on CUDA)", long)):
        if run:
            per = ", ".join(f"{px}: {s:.4f}" for px, s in run["per_scale"])
            print(f"| Artifier {name} | {run['iterations']} | {run['seconds']:.1f} | {per} "
                  f"| {run['peak_mb']:.0f} |")
    print(f"| Artifier, 1000 Adam at {args.size} px | 1000 | {full_total:.1f} (from "
          f"{args.long_steps}) | {args.size}: {full_per:.4f} | {full['peak_mb']:.0f} |")
    if past:
        past_total = past["setup"] + 1000 * past["per_step"]
        print(f"| pastiche 1.6.0, 1000 L-BFGS | 1000 | {past_total:.1f} (from "
              f"{args.pastiche_steps}) | {args.size}: {past['per_step']:.3f} "
              f"| {past['peak_mb']:.0f} |")
        print(f"pastiche: {past_total / fast['seconds']:.1f}x slower than the fast schedule")
    else:
        print("pastiche is not installed here: its row is skipped")
    for variant in filter(None, args.variants.split(",")):
        precision, layout, *eager = variant.split(":")
        run = _child(["--size", str(args.size), "--device", args.device, "--precision",
                      precision, "--layout", layout, *(["--eager"] if eager else []),
                      "--child", "artifier", FULL, str(args.long_steps)])
        per = run["per_scale"][0][1]
        print(f"| Artifier, 1000 Adam, {variant} | 1000 "
              f"| {run['seconds'] - args.long_steps * per + 1000 * per:.1f} "
              f"| {args.size}: {per:.4f} | {run['peak_mb']:.0f}, GPU {run['gpu_peak_mb']:.0f} |",
              flush=True)
    if args.device.startswith("cuda"):
        print(f"GPU peak MB: fast {fast['gpu_peak_mb']:.0f}, 1000 at {args.size} px "
              f"{full['gpu_peak_mb']:.0f}")


if __name__ == "__main__":
    main()
