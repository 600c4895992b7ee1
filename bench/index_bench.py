"""Index-build figures, side by side in one run.

1. Bare backbone forward (decoded images in memory, same sizes and batching) against
   the real build (decode workers, HDF5 shards, catalog) on the same artworks, in each
   `--precisions` (index.precision), run alternately.
2. The FAISS stage (train, add, bytes per patch, peak memory) for the shared sample
   (from the index `make index` built) and for a synthetic 50,000-artwork store.
Every stage runs in its own process, so each peak memory is its own.

    python bench/index_bench.py [--sample-every 9] [--synthetic 50000]
    python bench/index_bench.py --sample-every 18 --no-faiss  # float32 against bfloat16
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ART = ROOT.parent / "shared" / "data" / "art"
SAMPLE_INDEX = ROOT / "indexes" / "art"
SYNTHETIC_INDEX = ROOT / "indexes" / "synthetic-50k"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bare_forward(art: Path, precision: str) -> dict:
    """Throughput of the network alone on the artworks under `art`, in `precision`."""
    from collections import defaultdict

    import torch

    from core.config import load_config
    from core.images import fit_long_side, load_image, to_tensor
    from core.precision import network_precision
    from core.session import backbone_from_config
    from index_build.scan import scan

    cfg = load_config()
    icfg = cfg["index"]
    backbone, device = backbone_from_config(cfg)
    groups = defaultdict(list)
    for a in scan(art):
        try:
            img = to_tensor(fit_long_side(load_image(art / a.path), icfg["image_size"], 16))[0]
        except Exception:  # noqa: BLE001 - the build reports these; here they are skipped
            continue
        groups[tuple(img.shape)].append(img)
    count = sum(len(g) for g in groups.values())
    start = time.perf_counter()
    with torch.inference_mode(), network_precision(precision, device):
        for images in groups.values():
            for i in range(0, len(images), icfg["batch_size"]):
                backbone(torch.stack(images[i:i + icfg["batch_size"]]).to(device), [icfg["layer"]])
    seconds = time.perf_counter() - start
    return {"artworks": count, "seconds": seconds, "per_s": count / seconds}


def real_build(art: Path, precision: str) -> dict:
    from core.config import load_config
    from core.session import backbone_from_config
    from index_build.build import build_index

    cfg = load_config(overrides=[f'index.precision="{precision}"'])
    backbone, device = backbone_from_config(cfg)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        report = build_index(art, Path(tmp) / "index", cfg, backbone, device)
        total = time.perf_counter() - start
    return {"artworks": report.extracted, "feature_s": report.feature_seconds,
            "per_s": report.extracted / report.feature_seconds, "total_s": total,
            "total_per_s": report.extracted / total}


def faiss_stage(index_dir: Path, in_place: bool) -> dict:
    """Train and fill a fresh index over the features of an existing catalog: in place
    (the synthetic store, which the recall bench then queries) or in a scratch copy."""
    from core.config import load_config
    from index_build import catalog as cat
    from index_build.build import BuildReport, update_faiss
    from index_build.manifest import read_manifest, write_manifest

    cfg = load_config()["index"]
    with tempfile.TemporaryDirectory() as tmp:
        dst = index_dir if in_place else Path(tmp)
        if not in_place:
            shutil.copy(index_dir / cat.CATALOG_FILE, dst / cat.CATALOG_FILE)
            (dst / "features").symlink_to((index_dir / "features").resolve())
        for old in dst.glob("index-*.faiss"):
            old.unlink()
        db = cat.open_catalog(dst)
        with db:
            db.execute("UPDATE artworks SET indexed=0")
        manifest = {k: v for k, v in read_manifest(index_dir).items()
                    if k not in ("index_file", "generation", "factory", "nlist", "patches",
                                 "files")}
        write_manifest(dst, manifest)
        report = BuildReport()
        manifest = update_faiss(db, dst, manifest, cfg, report)
        artworks = db.execute("SELECT COUNT(*) FROM artworks WHERE indexed=1").fetchone()[0]
        db.close()
        size = (dst / manifest["index_file"]).stat().st_size
    return {"artworks": artworks, "patches": manifest["patches"], "factory": manifest["factory"],
            "train_s": report.train_seconds, "add_s": report.add_seconds,
            "bytes_per_patch": size / manifest["patches"], "index_mb": size / 2**20}


def _child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True,
                         text=True)
    if out.returncode:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _throughput_rows(best: dict[tuple[str, str], dict], args: argparse.Namespace) -> None:
    import torch

    base = args.precisions[0]
    artworks = best["build", base]["artworks"]
    caps = torch.cpu.get_capabilities()
    flags = ", ".join(f for f in ("avx512_bf16", "amx_bf16") if caps.get(f)) or "no bfloat16"
    print(f"## Build throughput ({artworks} shared artworks, every {args.sample_every}th; "
          f"CPU {caps['cpu_name']}, {flags}; best of {args.rounds} alternating round(s))")
    print(f"| precision | stage | artworks/s | ratio to bare forward | ratio to {base} | peak MB |")
    print("|---|---|---|---|---|---|")
    for precision in args.precisions:
        forward, build = best["forward", precision], best["build", precision]
        rows = (("bare backbone forward (decoded in memory)", forward["per_s"], forward),
                ("build, feature stage (decode workers, shards, catalog)", build["per_s"], build),
                ("build, whole (with FAISS train and add)", build["total_per_s"], None))
        bases = (best["forward", base]["per_s"], best["build", base]["per_s"],
                 best["build", base]["total_per_s"])
        for (stage, per_s, run), base_per_s in zip(rows, bases):
            peak = f"{run['peak_mb']:.0f}" if run else ""
            print(f"| {precision} | {stage} | {per_s:.2f} | {per_s / forward['per_s']:.2f} "
                  f"| {per_s / base_per_s:.2f} | {peak} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample-every", type=int, default=9,
                        help="Throughput is measured on every N-th shared artwork.")
    parser.add_argument("--synthetic", type=int, default=50_000)
    parser.add_argument("--precisions", nargs="+", default=["float32", "bfloat16"],
                        help="Throughput rows for each index.precision, run alternately; the "
                             "first is the baseline of the ratios.")
    parser.add_argument("--rounds", type=int, default=1,
                        help="Alternations of the precisions; each row keeps its best round.")
    parser.add_argument("--faiss", action=argparse.BooleanOptionalAction, default=True,
                        help="Also the FAISS stage (needs `make index`).")
    parser.add_argument("--child", nargs="*")
    args = parser.parse_args()
    if args.child is not None:
        kind, path, precision = args.child
        steps = {"forward": bare_forward, "build": real_build,
                 "faiss": lambda p, _: faiss_stage(p, in_place=False),
                 "faiss-in-place": lambda p, _: faiss_stage(p, in_place=True)}
        result = steps[kind](Path(path), precision)
        print(json.dumps(result | {"peak_mb": _peak_mb()}))
        return

    from synthetic import make_synthetic
    from index_build.subset import make_subset

    if args.faiss and not (SAMPLE_INDEX / "manifest.json").is_file():
        raise SystemExit(f"no index at {SAMPLE_INDEX}: run `make index` first (or --no-faiss)")
    best: dict[tuple[str, str], dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        subset = Path(tmp) / "art"
        make_subset(ART, subset, args.sample_every)
        for _ in range(args.rounds):
            for precision in args.precisions:
                for kind in ("forward", "build"):
                    run = _child(kind, str(subset), precision)
                    if run["per_s"] > best.get((kind, precision), {"per_s": 0})["per_s"]:
                        best[kind, precision] = run
    _throughput_rows(best, args)
    if not args.faiss:
        return

    start = time.perf_counter()
    make_synthetic(SAMPLE_INDEX, SYNTHETIC_INDEX, args.synthetic)
    made = time.perf_counter() - start
    sample = _child("faiss", str(SAMPLE_INDEX))
    synthetic = _child("faiss-in-place", str(SYNTHETIC_INDEX))
    print()
    print(f"## FAISS stage (synthetic store made in {made:.0f} s)")
    print("| collection | artworks | patches | factory | train s | add s | bytes/patch "
          "| index MB | peak MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in (("shared sample", sample), ("synthetic", synthetic)):
        print(f"| {name} | {r['artworks']:,} | {r['patches']:,} | {r['factory']} "
              f"| {r['train_s']:.1f} | {r['add_s']:.1f} | {r['bytes_per_patch']:.1f} "
              f"| {r['index_mb']:.0f} | {r['peak_mb']:.0f} |")


if __name__ == "__main__":
    main()
