"""The re-rank's first pass read from channel-reduced maps, against today's, on one index.

Today the first pass reads every shortlisted artwork's full float16 map (200 kB at 14 x 14
x 512) and scores it against the photo cut to rank 32; then the best top + 32 are scored
exactly. Maps projected on their leading principal channels (docs/scale.md) would be read
at 1/2 or 1/4 of the bytes. This writes such a store for the index once (`--store`), then
sends each query of bench/recall.py through the same FAISS shortlist and both first
passes, alternating, and prints the re-rank's p50 and recall@10 against the exact answers
bench/fast_path.py keeps. Reduced norms: cosines are taken inside the reduced space.

    python bench/first_pass_pca.py --index indexes/synthetic-50k --dims 256 --keep 60
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fast_path import exact_answers, queries  # noqa: E402  (repo root first on the path)
from bench.rerank_pca import channel_basis  # noqa: E402


def reduced_store(view, rows: list, basis: torch.Tensor, path: Path) -> np.ndarray:
    """Every row's map projected on `basis`, float16, one row of `path` per position, in
    the order of `rows` (grouped by map shape, as `view.batches` reads them); written once
    and reused while `path` exists."""
    total = sum(r["fh"] * r["fw"] for r in rows)
    if path.is_file():
        store = np.load(path, mmap_mode="r")
        if store.shape == (total, basis.shape[1]):
            return store
    out = np.lib.format.open_memmap(path, "w+", np.float16, (total, basis.shape[1]))
    offset = 0
    with torch.inference_mode():
        for chunk, maps in view.batches(rows, 64, torch.device("cpu")):
            flat = maps.float().permute(0, 2, 3, 1).reshape(-1, basis.shape[0])
            projected = (flat @ basis).half().numpy()
            out[offset:offset + len(projected)] = projected
            offset += len(projected)
    out.flush()
    return np.load(path, mmap_mode="r")


def reduced_first_pass(view, photo: torch.Tensor, rows: list, store: np.ndarray,
                       offsets: dict[int, int], basis: torch.Tensor, keep: int,
                       rcfg: dict) -> dict[int, float]:
    """Exact scores of the `keep` rows the reduced maps rank best."""
    from retrieval.catalog_view import by_shape
    from retrieval.rerank import exact_scores
    from retrieval.score import low_rank_scores, photo_factors

    dims = basis.shape[1]
    reduced = torch.einsum("chw,cd->dhw", photo.float(), basis)
    estimates: dict[int, float] = {}
    with torch.inference_mode():
        factors = photo_factors(reduced, rcfg["photo_rank"])
        for (fh, fw), group in by_shape(rows).items():
            for start in range(0, len(group), rcfg["exact_batch"]):
                chunk = group[start:start + rcfg["exact_batch"]]
                maps = np.stack([store[offsets[r["id"]]:offsets[r["id"]] + fh * fw]
                                 for r in chunk])
                keys = torch.from_numpy(maps).float().view(len(chunk), fh, fw, dims)
                scores = low_rank_scores(reduced, factors, keys.permute(0, 3, 1, 2))
                estimates.update(zip((r["id"] for r in chunk), scores.tolist()))
    best = sorted(rows, key=lambda r: -estimates[r["id"]])[:keep]
    return exact_scores(view, photo, best, rcfg["exact_batch"], torch.device("cpu"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / "indexes" / "art")
    parser.add_argument("--dims", type=int, default=256)
    parser.add_argument("--keep", type=int, default=60,
                        help="artworks the reduced pass hands to the exact one")
    parser.add_argument("--photos", type=int, default=16)
    parser.add_argument("--crops", type=int, default=8)
    parser.add_argument("--store", type=Path, help="the reduced store (default: in /tmp)")
    args = parser.parse_args()

    import faiss

    from core.config import load_config
    from core.patch_vectors import patch_vectors
    from core.session import backbone_from_config
    from retrieval.catalog_view import IndexView, by_shape
    from retrieval.rerank import rerank
    from retrieval.search import approximate_scores, photo_features

    cfg = load_config(overrides=['retrieval.mode="faiss"', 'backbone.device="cpu"'])
    rcfg = cfg["retrieval"]
    photos = queries(args.index, args.photos, args.crops, Path(tempfile.mkdtemp()))
    truth = exact_answers(args.index, photos,
                          Path(tempfile.gettempdir()) / f"exact-{args.index.name}.json")
    net, device = backbone_from_config(cfg)
    view = IndexView(args.index, net, cfg)
    faiss.extract_index_ivf(view.faiss).nprobe = rcfg["nprobe"]
    rows = [r for group in by_shape(view.rows()).values() for r in group]  # as batches read
    offsets = dict(zip((r["id"] for r in rows),
                       np.cumsum([0] + [r["fh"] * r["fw"] for r in rows[:-1]]).tolist()))
    basis = channel_basis(view, rows, args.dims)
    start = time.perf_counter()
    path = args.store or Path(tempfile.gettempdir()) / f"reduced-{args.index.name}-{args.dims}.npy"
    store = reduced_store(view, rows, basis, path)
    print(f"reduced store ({args.dims} channels, {path.stat().st_size / 2**30:.1f} GiB) ready "
          f"in {time.perf_counter() - start:.0f} s", flush=True)
    keep = cfg["retrieval"]["rescore"] + 10
    passes = {
        "today": lambda f, cand: rerank(view, f, cand, keep, rcfg, device, lambda row: True),
        "reduced": lambda f, cand: reduced_first_pass(view, f, cand, store, offsets, basis,
                                                      args.keep, rcfg),
    }
    seconds: dict[str, list[float]] = {name: [] for name in passes}
    recall: dict[str, list[float]] = {name: [] for name in passes}
    for k, photo in enumerate(photos):
        feats = photo_features(photo, net, view, device, cfg["images"]["max_pixels"])
        dist, ids = view.faiss.search(patch_vectors(feats.permute(1, 2, 0).float().numpy()),
                                      rcfg["k"])
        artworks, approx = approximate_scores(ids, dist)
        cand = view.rows(artworks[np.argsort(-approx)[:rcfg["shortlist"]]])
        for name in (list(passes) if k % 2 else list(passes)[::-1]) * 2:
            begin = time.perf_counter()
            scores = passes[name](feats, cand)
            seconds[name].append(time.perf_counter() - begin)
            top = sorted(scores, key=lambda i: -scores[i])[:10]
            recall[name].append(len(set(top) & set(truth[photo.name])) / 10)
    print(f"## {args.index.name}: {len(photos)} queries, shortlist {rcfg['shortlist']}, "
          f"each pass twice a query, in turn")
    print("| first pass reads | bytes an artwork | then exact | re-rank p50 ms | recall@10 |")
    print("|---|---:|---:|---:|---:|")
    for name, label, width, kept in (("today", "full maps, 512 channels", 512, keep),
                                     ("reduced", f"PCA maps, {args.dims} channels",
                                      args.dims, args.keep)):
        print(f"| {label} | {196 * width * 2:,} | {kept} | "
              f"{np.median(seconds[name]) * 1000:.0f} | {np.mean(recall[name]):.3f} |")


if __name__ == "__main__":
    main()
