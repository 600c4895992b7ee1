"""Recall of the fast path against --exact, and latency per stage, in one run.

Queries: the shared photos, plus crops of artworks with their colours jittered, whose
own source should come first. recall@k is the share of the exact top k that the fast
top k holds. The peak memory is that of a separate `artifier retrieve` process.

    python bench/recall.py --index indexes/art
    python bench/recall.py --index indexes/synthetic-50k --photos 8 --crops 8

With `--reference F32_INDEX` (the same artworks indexed with index.precision="float32"),
also the precisions side by side: each query's photo features in float32 and in this
index's precision, timed alternately, and recall@10 of this index's answers against the
float32 index's exact ones.
"""
from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import ImageEnhance

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index_build.sources import open_located  # noqa: E402  (the repo root is on the path first)
from retrieval.catalog_view import IndexView  # noqa: E402
PHOTOS = ROOT.parent / "shared" / "data" / "photos"


def crop_and_jitter(src: str, out: Path, rng: np.random.Generator) -> Path:
    img = open_located(src, 10**9)
    w, h = img.size
    left, top = rng.uniform(0, 0.2) * w, rng.uniform(0, 0.2) * h
    keep = rng.uniform(0.6, 0.8)
    img = img.crop((int(left), int(top), int(left + keep * w), int(top + keep * h)))
    img = ImageEnhance.Color(img).enhance(rng.uniform(0.7, 1.3))
    img = ImageEnhance.Brightness(img).enhance(rng.uniform(0.8, 1.2))
    img.save(out)
    return out


def bench_queries(view: IndexView, photos: int, crops: int,
                  folder: Path) -> list[tuple[Path, int | None]]:
    """The first `photos` shared photos, then `crops` crops of real artworks (written into
    `folder`) spread over the catalog, each with the id of the artwork it came from."""
    rows = [r for r in view.rows() if not r["path"].startswith("synthetic/")]
    rng = np.random.default_rng(0)
    queries: list[tuple[Path, int | None]] = [
        (p, None) for p in sorted(PHOTOS.glob("*.jpg"))[:photos]]
    for r in [rows[i] for i in np.linspace(0, len(rows) - 1, crops).astype(int)]:
        queries.append((crop_and_jitter(view.locator(r), folder / f"{r['id']}.png", rng), r["id"]))
    return queries


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000


def _peak_rss_of_cli(photo: Path, index: Path) -> float:
    """The child's own high-water mark (VmHWM). Its ru_maxrss would not do: Linux carries
    the parent's resident size across fork and exec into it, so a large bench process
    made the CLI look as large as itself."""
    code = ("import sys; from commands.cli import main; sys.argv = ['artifier', "
            f"'retrieve', {str(photo)!r}, '--index', {str(index)!r}]; "
            "exec('try:\\n main()\\nexcept SystemExit: pass'); "
            "print('PEAK', [l.split()[1] for l in open('/proc/self/status') "
            "if l.startswith('VmHWM')][0])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.split("PEAK")[-1]) / 1024


def compare_precisions(view: IndexView, reference: IndexView, queries: list, cfg: dict,
                       backbone, device: torch.device, fast_path: bool = True) -> None:
    """Rows of float32 against this index's precision: features p50 (timed alternately)
    and recall@10 against the float32 index's exact answers, for this index's exact and
    fast paths (the fast one where the index has its FAISS stage) and for a float32 photo
    against it (the query of a CPU without bfloat16)."""
    from index_build.manifest import built_precision
    from retrieval.search import photo_features, query_precision, search

    def ids(found) -> set[int]:
        return {m.id for m in found.matches}

    precision = query_precision(view.precision, view.manifest, device)
    if precision == "float32":
        raise SystemExit(f"queries of {view.dir} run in float32 on {device}: nothing to compare")
    seconds: dict[str, list[float]] = {"float32": [], precision: []}
    recall: dict[str, list[float]] = {"exact": [], "fast": [], "mixed": [], "ties": []}
    for photo, _ in queries:
        feats = {}
        for name, on in (("float32", reference), (precision, view)):
            start = time.perf_counter()
            feats[name] = photo_features(photo, backbone, on, device, cfg["images"]["max_pixels"])
            seconds[name].append(time.perf_counter() - start)
        # The float32 top 20, once: its first 10 are the truth, the rest the near ties.
        found = search(reference, feats["float32"], 20, True, cfg, device)
        truth = {m.id for m in found.matches[:10]}
        runs = [("exact", feats[precision], True), ("mixed", feats["float32"], True)]
        got = {}
        for key, photo_map, exact in runs + ([("fast", feats[precision], False)]
                                             if fast_path else []):
            got[key] = ids(search(view, photo_map, 10, exact, cfg, device))
            recall[key].append(len(got[key] & truth) / len(truth))
        # A miss whose float32 score is within 1e-3 a photo patch of the 10th is a near tie.
        cut, tie = found.matches[9].score, 1e-3 * found.photo_patches
        near = {m.id for m in found.matches if abs(m.score - cut) <= tie}
        recall["ties"].append(len(got["exact"] & (truth | near)) / len(truth))
    built = built_precision(view.manifest)
    print(f"## Precision: {built} index against its float32 reference ({len(queries)} queries, "
          f"{torch.cpu.get_capabilities()['cpu_name'] if device.type == 'cpu' else device})")
    print("| photo features | index | features p50 ms | recall@10 exact | recall@10 fast |")
    print("|---|---|---|---|---|")
    print(f"| float32 | float32 | {_pct(seconds['float32'], 50):.0f} | 1.000 (the truth) | |")
    fast = f"{np.mean(recall['fast']):.3f}" if fast_path else "not measured"
    print(f"| {precision} | {built} | {_pct(seconds[precision], 50):.0f} "
          f"| {np.mean(recall['exact']):.3f} | {fast} |")
    print(f"| float32 | {built} | | {np.mean(recall['mixed']):.3f} | |")
    print(f"recall@10 exact, near ties (within 1e-3 a patch of the 10th) counted as found: "
          f"{np.mean(recall['ties']):.3f}")
    print(f"features {np.median(seconds['float32']) / np.median(seconds[precision]):.2f}x "
          f"quicker in {precision} (p50)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, default=ROOT / "indexes" / "art")
    parser.add_argument("--photos", type=int, default=33, help="How many shared photos.")
    parser.add_argument("--crops", type=int, default=20, help="How many artwork crops.")
    parser.add_argument("--sweep", nargs="*", default=[], metavar="K,NPROBE,SHORTLIST",
                        help="Also measure these fast-path settings against the same exact runs.")
    parser.add_argument("--resident", action=argparse.BooleanOptionalAction, default=None,
                        help="Also measure retrieval.mode=exact (maps held in memory); default: "
                             "on CUDA, or for collections of at most 10,000 artworks.")
    parser.add_argument("--faiss", action=argparse.BooleanOptionalAction, default=True,
                        help="Measure the FAISS path (--no-faiss: a store without a FAISS "
                             "index, as bench/synthetic.py leaves it before training).")
    parser.add_argument("--reference", type=Path,
                        help="The same artworks indexed in float32: compare precisions.")
    args = parser.parse_args()

    from core.config import load_config
    from core.session import backbone_from_config
    from retrieval.search import photo_features, search

    cfg = load_config(overrides=['retrieval.mode="faiss"'])
    backbone, device = backbone_from_config(cfg)
    view = IndexView(args.index, backbone, cfg, args.faiss)
    resident_cfg = load_config(overrides=['retrieval.mode="exact"'])
    if args.resident is None:
        args.resident = device.type == "cuda" or view.count() <= 10_000
    resident_view = (IndexView(args.index, backbone, resident_cfg, args.faiss) if args.resident
                     else None)
    queries = bench_queries(view, args.photos, args.crops, Path(tempfile.mkdtemp()))

    total = len(view.rows())
    stages: dict[str, list[float]] = {"features": [], "faiss_search": [], "aggregate": [],
                                      "rerank": [], "fast": [], "exact": [], "resident": []}
    r1, r10, src_fast, src_exact, r10_resident, load_s = [], [], [], [], [], 0.0
    sweeps = {tuple(map(int, s.split(","))): {"r10": [], "s": []} for s in args.sweep}
    for photo, source in queries:
        start = time.perf_counter()
        feats = photo_features(photo, backbone, view, device, cfg["images"]["max_pixels"])
        feat_s = time.perf_counter() - start
        exact = search(view, feats, 10, True, cfg, device)
        stages["features"].append(feat_s)
        stages["exact"].append(feat_s + exact.timings["exact"])
        exact_ids = [m.id for m in exact.matches]
        if args.faiss:
            fast = search(view, feats, 10, False, cfg, device)
            for key, value in fast.timings.items():
                stages[key].append(value)
            stages["fast"].append(feat_s + sum(fast.timings.values()))
            fast_ids = [m.id for m in fast.matches]
            r1.append(fast_ids[0] == exact_ids[0])
            r10.append(len(set(fast_ids) & set(exact_ids)) / len(exact_ids))
            if source is not None:
                src_fast.append(fast_ids[0] == source)
        if resident_view is not None:
            held = search(resident_view, feats, 10, False, resident_cfg, device)
            load_s += held.timings.get("load", 0.0)
            stages["resident"].append(feat_s + held.timings["exact"])
            r10_resident.append(len({m.id for m in held.matches} & set(exact_ids)) / len(exact_ids))
        if source is not None:
            src_exact.append(exact_ids[0] == source)
        for (k, nprobe, shortlist), seen in (sweeps.items() if args.faiss else ()):
            other = cfg | {"retrieval": cfg["retrieval"] | {"k": k, "nprobe": nprobe,
                                                              "shortlist": shortlist}}
            start = time.perf_counter()
            ids = {m.id for m in search(view, feats, 10, False, other, device).matches}
            seen["s"].append(feat_s + time.perf_counter() - start)
            seen["r10"].append(len(ids & set(exact_ids)) / len(exact_ids))
        print(f"{photo.name}: exact {stages['exact'][-1]:.2f} s"
              + (f", fast {stages['fast'][-1]:.2f} s, recall@10 {r10[-1]:.1f}" if r10 else "")
              + (f", resident {stages['resident'][-1]:.2f} s" if stages["resident"] else ""),
              file=sys.stderr)
    if args.reference:
        reference = IndexView(args.reference, backbone, cfg, args.faiss)
        compare_precisions(view, reference, queries, cfg, backbone, device, args.faiss)
        reference.close()
    view.close()
    if resident_view is not None:
        resident_view.close()
    peak = _peak_rss_of_cli(queries[0][0], args.index) if args.faiss else None

    print(f"## {args.index.name}: {total:,} artworks, {len(queries)} queries "
          f"({args.photos} photos, {args.crops} artwork crops), device {device}")
    if args.faiss:
        print(f"recall@1 {np.mean(r1):.3f}, recall@10 {np.mean(r10):.3f} (fast against exact); "
              f"source first: fast {np.mean(src_fast):.3f}, exact {np.mean(src_exact):.3f}")
    print("| stage | p50 ms | p95 ms |")
    print("|---|---|---|")
    for key, values in stages.items():
        if values:
            print(f"| {key} | {_pct(values, 50):.0f} | {_pct(values, 95):.0f} |")
    if r10_resident:
        print(f"resident (retrieval.mode=exact): recall@10 {np.mean(r10_resident):.3f} against "
              f"the exact scan; maps loaded once in {load_s:.1f} s")
    rc = cfg["retrieval"]
    if sweeps:
        print("| k | nprobe | shortlist | recall@10 | fast p50 ms |")
        print("|---|---|---|---|---|")
        print(f"| {rc['k']} | {rc['nprobe']} | {rc['shortlist']} | {np.mean(r10):.3f} "
              f"| {_pct(stages['fast'], 50):.0f} |")
        for (k, nprobe, shortlist), seen in sweeps.items():
            print(f"| {k} | {nprobe} | {shortlist} | {np.mean(seen['r10']):.3f} "
                  f"| {_pct(seen['s'], 50):.0f} |")
    if args.faiss:
        print(f"fast path is {np.median(stages['exact']) / np.median(stages['fast']):.1f}x "
              "quicker than exact (p50)")
    if peak is not None:
        print(f"peak memory of one `artifier retrieve` process: {peak:.0f} MB")
    if device.type == "cuda":
        print(f"GPU peak MB: {torch.cuda.max_memory_allocated() / 2**20:.0f}")
    print(f"this bench process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
