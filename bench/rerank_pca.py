"""What the exact re-rank loses when it reads channel-reduced maps instead of the full ones.

At a million artworks the float16 relu5_3 maps are about 200 GB (docs/scale.md). Projected
on their leading principal directions (uncentred: dot products are what the cosine keeps)
they are 1/2 or 1/4 of that. For photos of the shared set, every artwork of the index is
scored exactly from full maps (the truth) and from maps projected to 256 and 128 channels
and stored as float16; rows: how many of the true top 10 each keeps in its own top 10, and
in its top 30 (a shortlist whose 30 full maps a last pass could read).

    python bench/rerank_pca.py [--index indexes/art] [--photos 33]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PHOTOS = ROOT.parent / "shared" / "data" / "photos"


def channel_basis(view, rows: list, dims: int, sample: int = 300) -> torch.Tensor:
    """(C, dims): leading right singular vectors of map positions of `sample` artworks."""
    rng = np.random.default_rng(0)
    picked = [rows[i] for i in rng.choice(len(rows), min(sample, len(rows)), replace=False)]
    positions = np.concatenate([m.reshape(-1, m.shape[-1]) for m in view.store.read_many(picked)])
    _, _, vt = torch.linalg.svd(torch.from_numpy(positions).float(), full_matrices=False)
    return vt[:dims].t().contiguous()


def _scores(photo: torch.Tensor, view, rows: list, basis: torch.Tensor | None) -> dict[int, float]:
    from retrieval.score import maxsim_scores

    if basis is not None:
        photo = torch.einsum("chw,cd->dhw", photo, basis)
    scores = {}
    for chunk, maps in view.batches(rows, 128, torch.device("cpu")):
        maps = maps.float()
        if basis is not None:
            maps = torch.einsum("bchw,cd->bdhw", maps, basis).half().float()
        for r, s in zip(chunk, maxsim_scores(photo, maps).tolist()):
            scores[r["id"]] = s
    return scores


def _top(scores: dict[int, float], n: int) -> list[int]:
    return sorted(scores, key=lambda i: -scores[i])[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / "indexes" / "art")
    parser.add_argument("--photos", type=int, default=33, help="The first N shared photos.")
    args = parser.parse_args()

    from core.config import load_config
    from core.session import backbone_from_config
    from retrieval.catalog_view import IndexView
    from retrieval.search import photo_features

    cfg = load_config(overrides=['backbone.device="cpu"'])
    net, device = backbone_from_config(cfg)
    view = IndexView(args.index, net, cfg, faiss=False)
    rows = view.rows()
    bases = {dims: channel_basis(view, rows, dims) for dims in (256, 128)}
    photos = sorted(PHOTOS.glob("*.jpg"))[:args.photos]
    kept: dict[str, list[tuple[int, int]]] = {"256": [], "128": []}
    seconds: dict[str, float] = {"512": 0.0, "256": 0.0, "128": 0.0}
    for photo in photos:
        fmap = photo_features(photo, net, view, device, cfg["images"]["max_pixels"]).float()
        start = time.perf_counter()
        truth = _top(_scores(fmap, view, rows, None), 10)
        seconds["512"] += time.perf_counter() - start
        for dims, basis in bases.items():
            start = time.perf_counter()
            scores = _scores(fmap, view, rows, basis)
            seconds[str(dims)] += time.perf_counter() - start
            kept[str(dims)].append((len(set(truth) & set(_top(scores, 10))),
                                    len(set(truth) & set(_top(scores, 30)))))
    print(f"{len(rows)} artworks of {args.index}, {len(photos)} photos, exact scores on the CPU")
    print("| maps read by the re-rank | bytes per artwork | true top 10 in its top 10 | "
          "in its top 30 | scoring s per photo |")
    print("|---|---:|---:|---:|---:|")
    print(f"| full, 512 ch float16 | {196 * 512 * 2:,} | 10.0 | 10.0 | "
          f"{seconds['512'] / len(photos):.1f} |")
    for dims in ("256", "128"):
        at10, at30 = np.mean(kept[dims], axis=0)
        print(f"| PCA {dims} ch float16 | {196 * int(dims) * 2:,} | {at10:.1f} | {at30:.1f} | "
              f"{seconds[dims] / len(photos):.1f} |")


if __name__ == "__main__":
    main()
