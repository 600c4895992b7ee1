"""A phone-sized photo's query features, decoded whole and decoded reduced, in one run.

The shared photos are 768 px at most, so the retrieval benches never decode a large JPEG.
This makes one (a shared photo enlarged to 4032 x 3024, JPEG quality 90, in a temporary
folder) and times the query's features both ways, alternating: the image decoded whole
and shrunk to the index's size, and decoded at a DCT reduction first (`load_image`'s
`long_side`, what `artifier retrieve` does).

    python bench/photo_decode.py [--index indexes/art] [--rounds 5]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT.parent / "shared" / "data" / "photos" / "kodak-kodim01.jpg"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / "indexes" / "art")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from core.config import load_config
    from core.images import load_image
    from core.session import backbone_from_config
    from index_build.extract import index_input
    from retrieval.catalog_view import IndexView

    cfg = load_config()
    net, device = backbone_from_config(cfg)
    view = IndexView(args.index, net, cfg, faiss=False)
    size, layer = view.manifest["image_size"], view.manifest["layer"]
    big = Path(tempfile.mkdtemp()) / "phone.jpg"
    Image.open(PHOTO).convert("RGB").resize((4032, 3024), Image.Resampling.BICUBIC).save(
        big, quality=90)
    ways = {"decoded whole": None, "decoded reduced": size}
    seconds: dict[str, list[float]] = {way: [] for way in ways}
    for _ in range(args.rounds):
        for way, long_side in ways.items():
            start = time.perf_counter()
            batch = index_input(load_image(big, long_side=long_side), size, big).unsqueeze(0)
            with torch.inference_mode():
                net(batch.to(device), [layer])
            seconds[way].append(time.perf_counter() - start)
    view.close()
    print(f"4032 x 3024 JPEG to {size} px features, {args.rounds} rounds, device {device}")
    print("| | p50 ms | min ms |\n|---|---:|---:|")
    for way, values in seconds.items():
        print(f"| {way} | {np.median(values) * 1000:.0f} | {min(values) * 1000:.0f} |")


if __name__ == "__main__":
    main()
