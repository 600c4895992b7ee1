"""The exact MaxSim score's speed: this tree's `core/patches.py` against a git revision's,
side by side in one run, on the same maps already in memory (reads are not timed).

    python bench/score_speed.py [--index indexes/art] [--before 908c308] [--device cpu]

Rows: the fast path's re-rank (`retrieval.shortlist` artworks) and every artwork (the
`--exact` scan and the resident mode), each timed `--repeats` times, alternating.
"""
from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.config import load_config  # noqa: E402  (the repo root is on the path first)
from core.patches import best_matches  # noqa: E402
from core.session import backbone_from_config  # noqa: E402
from retrieval.catalog_view import IndexView  # noqa: E402
from retrieval.search import photo_features  # noqa: E402

PHOTO = ROOT.parent / "shared" / "data" / "photos" / "chelsea-cat.jpg"


def module_at(revision: str, path: str):
    """`path` as it was at `revision`, imported under another name."""
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{revision}:{path}"],
                            capture_output=True, text=True, check=True).stdout
    file = Path(tempfile.mkdtemp()) / "patches_before.py"
    file.write_text(source)
    spec = importlib.util.spec_from_file_location("patches_before", file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def scores(matcher, photo: torch.Tensor, groups: list[torch.Tensor], batch: int) -> torch.Tensor:
    with torch.inference_mode():
        return torch.cat([matcher(photo.float(), g[i:i + batch].float())[0].flatten(1).sum(1)
                          for g in groups for i in range(0, len(g), batch)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / "indexes" / "art")
    parser.add_argument("--before", default="908c308", help="git revision to compare with")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cfg = load_config(overrides=[f'backbone.device="{args.device}"'])
    backbone, device = backbone_from_config(cfg)
    view = IndexView(args.index, backbone, cfg)
    photo = photo_features(PHOTO, backbone, view, device, cfg["images"]["max_pixels"])
    batch = cfg["retrieval"]["exact_batch"]
    rows = view.rows()
    shortlist = [maps for _, maps in view.batches(rows[:cfg["retrieval"]["shortlist"]], batch,
                                                  device)]
    every = [maps.half() for _, maps in view.batches(rows, batch, device)]
    view.close()
    before = module_at(args.before, "core/patches.py").best_matches
    print(f"exact MaxSim of {PHOTO.name} ({tuple(photo.shape)}), device {device}, "
          f"before = {args.before}, median of {args.repeats}")
    print("| maps | before ms | now ms | speed-up | largest score difference |")
    print("|---|---|---|---|---|")
    for name, groups in ((f"{sum(map(len, shortlist))} (shortlist)", shortlist),
                         (f"{len(rows):,} (every artwork)", every)):
        times: dict[str, list[float]] = {"before": [], "now": []}
        results = {}
        for _ in range(args.repeats):
            for label, matcher in (("before", before), ("now", best_matches)):
                start = time.perf_counter()
                results[label] = scores(matcher, photo, groups, batch)
                if device.type == "cuda":
                    torch.cuda.synchronize()
                times[label].append(time.perf_counter() - start)
        was, now = median(times["before"]), median(times["now"])
        diff = (results["before"] - results["now"]).abs().max().item()
        print(f"| {name} | {was * 1000:.0f} | {now * 1000:.0f} | {was / now:.2f}x | {diff:.1e} |",
              flush=True)


if __name__ == "__main__":
    main()
