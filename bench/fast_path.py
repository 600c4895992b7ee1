"""The fast path (features, FAISS, aggregation, re-rank) of this tree against a git
revision's, alternating in one run, each in its own process with its own defaults.

Queries are those of bench/recall.py. Recall is against the exact answers of this tree's
`--exact`, computed once and kept in `--exact-cache` (45 s a query at 50,000 here). The
revision queries `--before-index` where its FAISS index was built otherwise (the same
artworks and feature store: the exact answers are the same).

    python bench/fast_path.py --index indexes/synthetic-50k --before de1f7eb --photos 16 --crops 8
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.recall import bench_queries  # noqa: E402  (the repo root is on the path first)

# Run in a tree given as argv[1]: the fast path for each query, as JSON lines.
WORKER = """
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from core.config import load_config
from core.session import backbone_from_config
from retrieval.catalog_view import IndexView
from retrieval.search import photo_features, search
cfg = load_config(overrides=['retrieval.mode="faiss"'] + sys.argv[4:])
backbone, device = backbone_from_config(cfg)
view = IndexView(Path(sys.argv[2]), backbone, cfg)
for photo in json.loads(sys.argv[3]):
    start = time.perf_counter()
    feats = photo_features(Path(photo), backbone, view, device, cfg["images"]["max_pixels"])
    features = time.perf_counter() - start
    result = search(view, feats, 10, False, cfg, device)
    print(json.dumps({"ids": [m.id for m in result.matches],
                      "timings": {"features": features} | result.timings}))
"""


def queries(index: Path, photos: int, crops: int, folder: Path) -> list[Path]:
    from core.config import load_config
    from core.session import backbone_from_config
    from retrieval.catalog_view import IndexView

    cfg = load_config()
    view = IndexView(index, backbone_from_config(cfg)[0], cfg, faiss=False)
    try:
        return [path for path, _ in bench_queries(view, photos, crops, folder)]
    finally:
        view.close()


def exact_answers(index: Path, photos: list[Path], cache: Path) -> dict[str, list[int]]:
    """Each query's exact top 10 by name (crops are named by their artwork)."""
    known = json.loads(cache.read_text()) if cache.is_file() else {}
    missing = [p for p in photos if p.name not in known]
    if missing:
        from core.config import load_config
        from retrieval.search import retrieve

        for photo in missing:
            known[photo.name] = [m.id for m in retrieve(photo, index, 10, True, load_config()).matches]
            print(f"exact answer for {photo.name}", file=sys.stderr, flush=True)
            cache.write_text(json.dumps(known))
    return known


def run_tree(tree: Path, index: Path, photos: list[Path], overrides: list[str]) -> list[dict]:
    out = subprocess.run([sys.executable, "-c", WORKER, str(tree), str(index),
                          json.dumps([str(p) for p in photos]), *overrides],
                         capture_output=True, text=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / "indexes" / "art")
    parser.add_argument("--before", required=True, help="git revision to compare with")
    parser.add_argument("--before-index", type=Path, default=None,
                        help="the index the revision queries (default: --index)")
    parser.add_argument("--photos", type=int, default=16)
    parser.add_argument("--crops", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--exact-cache", type=Path, default=None,
                        help="JSON of exact answers (default: beside the index's name in /tmp)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="Overrides for this tree only (e.g. retrieval.shortlist=800).")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    photos = queries(args.index, args.photos, args.crops, folder)
    cache = args.exact_cache or Path(tempfile.gettempdir()) / f"exact-{args.index.name}.json"
    truth = exact_answers(args.index, photos, cache)
    before = folder / "before"
    before.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.before],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(before)], input=archive, check=True)
    runs: dict[str, list[list[dict]]] = {"before": [], "now": []}
    for _ in range(args.rounds):
        runs["before"].append(run_tree(before, args.before_index or args.index, photos, []))
        runs["now"].append(run_tree(ROOT, args.index, photos, args.set))
    print(f"## {args.index.name}: {len(photos)} queries, before = {args.before} on "
          f"{(args.before_index or args.index).name}, now = this tree "
          f"{' '.join(args.set)}; p50 ms over {args.rounds} rounds")
    print("| | before | now |")
    print("|---|---|---|")
    stages = ["features", "faiss_search", "aggregate", "rerank", "query"]
    table = {label: {s: [] for s in stages} for label in runs}
    recall = {}
    for label, rounds in runs.items():
        for results in rounds:
            for r in results:
                for stage, value in r["timings"].items():
                    table[label][stage].append(value)
                table[label]["query"].append(sum(r["timings"].values()))
        recall[label] = np.mean([len(set(r["ids"]) & set(truth[p.name])) / 10
                                 for p, r in zip(photos, rounds[0])])
    for stage in stages:
        print(f"| {stage} | " + " | ".join(f"{np.median(table[k][stage]) * 1000:.0f}"
                                           for k in runs) + " |")
    print("| recall@10 against exact | " + " | ".join(f"{recall[k]:.3f}" for k in runs) + " |")


if __name__ == "__main__":
    main()
