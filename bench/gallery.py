"""Remake a small gallery of triptychs from shared photos and paintings (not committed).

    python bench/gallery.py --out gallery [--size 384] [--index indexes/art]

With an index, one more photo is painted with the painting Artifier retrieves for it.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
PAIRS = [
    ("chelsea-cat.jpg", "vincent-van-gogh_the-starry-night-1889.jpg"),
    ("kodak-kodim23.jpg", "katsushika-hokusai_the-great-wave-off-kanagawa-1831.jpg"),
    ("washington-monument-cherry-blossoms.jpg", "edvard-munch_the-scream-1893.jpg"),
    ("kodak-kodim03.jpg", "henri-matisse_woman-with-a-hat-1905.jpg"),
]
RETRIEVED = "kodak-kodim22.jpg"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ROOT / "gallery")
    parser.add_argument("--size", type=int, default=384)
    parser.add_argument("--index", type=Path, default=ROOT / "indexes" / "art")
    args = parser.parse_args()
    artifier = str(Path(sys.executable).parent / "artifier")
    jobs = [[SHARED / "photos" / p, "--style", SHARED / "art" / a] for p, a in PAIRS]
    if (args.index / "manifest.json").is_file():
        jobs.append([SHARED / "photos" / RETRIEVED, "--index", args.index])
    for job in jobs:
        out = args.out / f"{job[0].stem}-{Path(job[2]).stem if job[1] == '--style' else 'retrieved'}.png"
        subprocess.run([artifier, "transfer", *map(str, job), "--triptych", "--size",
                        str(args.size), "-o", str(out)], check=True)


if __name__ == "__main__":
    main()
