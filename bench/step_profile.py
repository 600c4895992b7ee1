"""Where one step of a painting goes, and what each speed lever buys, in one run.

Each variant's step at one scale (the full size by default) is timed the way a painting
runs it: on CUDA replayed as a graph, nothing read back between steps. Variants run in
turn, three times round, and the fastest round counts (these machines are noisy). Then one
eager step of the default is profiled and its kernel time listed by operator.

    python bench/step_profile.py --device cuda [--size 512] [--steps 200]
    python bench/step_profile.py --device cpu --size 128 --steps 2   # a check, here
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
PHOTO = SHARED / "photos" / "chelsea-cat.jpg"
PAINTING = SHARED / "art" / "vincent-van-gogh_the-starry-night-1889.jpg"
ROUNDS = 3
# What each variant changes: config keys, and cuDNN's algorithm search (a process-wide
# switch, not a setting of the painting). Rows that drop a term say what that term costs.
VARIANTS: dict[str, tuple[dict, bool]] = {
    "default": ({}, False),
    "cudnn-benchmark": ({}, True),
    "float32 (TF32)": ({"precision": "float32"}, False),
    "no border pad": ({"border_pad": 0}, False),
    "no relu1_1 histogram": ({"hist_layers": ["relu4_1"]}, False),
    "no histograms": ({"hist_layers": [], "colour_weight": 0.0}, False),
}


def setup(size: int, device: torch.device, cfg: dict):
    from core.backbone import load_backbone
    from core.images import load_image
    from transfer.collage import collage_and_matches
    from transfer.checks import working_pair
    from core.precision import resolve_precision
    from transfer.strength import with_strength

    backbone = load_backbone(device=device)
    photo, painting = working_pair(load_image(PHOTO), load_image(PAINTING), size, device)
    cfg = with_strength(cfg | {"strength": 0.5})
    cfg = cfg | {"precision": resolve_precision(cfg["precision"], device)}
    start = collage_and_matches(photo, painting, backbone, cfg["collage_layer"], 16)[0]
    return backbone, photo, painting, start, cfg


def seconds_per_step(backbone, photo, painting, start, cfg: dict, steps: int) -> float:
    """(time of 5 + steps) - (time of 5): capture and warm-up cancel out."""
    from transfer.engine import optimise
    from transfer.targets import compute_targets

    targets = compute_targets(backbone, photo, painting, cfg)
    times = []
    for n in (5, 5 + steps):
        sync(photo.device)
        begin = time.perf_counter()
        optimise(backbone, start, targets, cfg, n)
        sync(photo.device)
        times.append(time.perf_counter() - begin)
    return (times[1] - times[0]) / steps


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def kernel_table(backbone, photo, painting, start, cfg: dict, rows: int) -> str:
    """Kernel (or CPU) time by operator over 3 eager steps."""
    from torch.profiler import ProfilerActivity, profile

    from transfer.engine import optimise
    from transfer.targets import compute_targets

    targets = compute_targets(backbone, photo, painting, cfg)
    cuda = photo.device.type == "cuda"
    optimise(backbone, start, targets, cfg | {"cuda_graph": False}, 2)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with profile(activities=activities) as prof:
        optimise(backbone, start, targets, cfg | {"cuda_graph": False}, 3)
        sync(photo.device)
    key = "self_cuda_time_total" if cuda else "self_cpu_time_total"
    return prof.key_averages().table(sort_by=key, row_limit=rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--rows", type=int, default=25,
                        help="operators in the profile (0: no profile)")
    args = parser.parse_args()

    from core.config import load_config
    from transfer.precision import tf32_allowed

    device = torch.device(args.device)
    backbone, photo, painting, start, cfg = setup(args.size, device,
                                                  load_config()["transfer"])
    names = args.variants.split(",")
    best: dict[str, float] = {}
    with tf32_allowed(device):  # as a painting runs
        for _ in range(ROUNDS):
            for name in names:
                overrides, benchmark = VARIANTS[name]
                torch.backends.cudnn.benchmark = benchmark
                seconds = seconds_per_step(backbone, photo, painting, start, cfg | overrides,
                                           args.steps)
                best[name] = min(best.get(name, seconds), seconds)
    torch.backends.cudnn.benchmark = False
    print(f"{PHOTO.name} x {PAINTING.name}, {tuple(photo.shape[2:])} px, {args.device}, "
          f"{args.steps} steps timed per variant, the fastest of {ROUNDS} rounds")
    print("| variant | ms per step | ratio to default |\n|---|---|---|")
    for name in names:
        print(f"| {name} | {best[name] * 1e3:.2f} | {best[name] / best['default']:.2f} |")
    if args.rows:
        with tf32_allowed(device):
            print(kernel_table(backbone, photo, painting, start, cfg, args.rows))


if __name__ == "__main__":
    main()
