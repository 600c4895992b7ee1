"""`artifier index build`: scan, extract features, index patches; resumable at any moment.

Order of durable writes, so a kill anywhere loses at most one shard of work:
1. a feature shard is renamed into place, then its artworks are marked done;
2. a new index file is renamed into place, then the manifest switches to it, then the
   catalog marks the artworks indexed (and re-adding removes an artwork's old patches
   first, so a kill between the last two steps leaves no duplicates).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import faiss
import torch

from artifier.backbone import Backbone, stride_of
from artifier.errors import CollectionError, IndexMismatchError
from artifier.progress import progress_bar
from index_build import catalog as cat
from index_build.extract import ArtworkImages, extract
from index_build.faiss_index import (add_artworks, gpu_available, resolve_factory,
                                     save_index, train_index)
from index_build.manifest import FORMAT, check_compatible, read_manifest, write_manifest
from index_build.scan import scan
from index_build.store import FeatureStore, write_shard


@dataclass
class BuildReport:
    added: int = 0
    changed: int = 0
    extracted: int = 0
    failed_now: int = 0
    indexed_now: int = 0
    feature_seconds: float = 0.0
    train_seconds: float = 0.0
    add_seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)


def binding(backbone: Backbone, cfg: dict[str, Any]) -> dict[str, Any]:
    """The settings an index is tied to; queries must use the same."""
    return {"backbone": backbone.name, "weights_sha256": backbone.weights_sha256,
            "layer": cfg["layer"], "image_size": cfg["image_size"], "patch_size": 3}


def _next_shard(db) -> int:
    last = db.execute("SELECT MAX(shard) FROM artworks").fetchone()[0]
    return int(last.split("-")[1].split(".")[0]) + 1 if last else 1


def _extract_pending(db, root: Path, index_dir: Path, backbone: Backbone, cfg: dict[str, Any],
                     max_pixels: int, device: torch.device, report: BuildReport,
                     on_artwork: Callable[[int], None] | None) -> None:
    pending = [(r["id"], r["path"]) for r in
               db.execute("SELECT id, path FROM artworks WHERE state='pending' ORDER BY id")]
    if not pending:
        return
    images = ArtworkImages(root, pending, cfg["image_size"], max_pixels)
    shard_no = _next_shard(db)
    done: list[tuple] = []
    failed: list[tuple] = []

    def flush() -> None:
        nonlocal shard_no
        name = f"shard-{shard_no:06d}.h5"
        rows = write_shard(index_dir, name, [d[1] for d in done]) if done else []
        with db:
            for (aid, fmap, _, width, height), row in zip(done, rows):
                db.execute("UPDATE artworks SET state='done', error=NULL, shard=?, row=?, fh=?, "
                           "fw=?, width=?, height=?, indexed=0 WHERE id=?",
                           (name, row, fmap.shape[0], fmap.shape[1], width, height, aid))
            for aid, _, error, width, height in failed:
                db.execute("UPDATE artworks SET state='failed', error=?, width=?, height=? "
                           "WHERE id=?", (error, width, height, aid))
        if done:
            shard_no += 1
        report.extracted += len(done)
        report.failed_now += len(failed)
        done.clear()
        failed.clear()

    start = time.perf_counter()
    with progress_bar("img") as bar:
        task = bar.add_task("features", total=len(pending), status="")
        for item in extract(backbone, cfg["layer"], images, cfg["batch_size"], cfg["workers"],
                            device):
            (done if item[1] is not None else failed).append(item)
            if len(done) + len(failed) >= cfg["shard_size"]:
                flush()
            bar.update(task, advance=1,
                       status=f"{report.failed_now + len(failed)} failed" if failed or
                       report.failed_now else "")
            if on_artwork:
                on_artwork(item[0])
        flush()
    report.feature_seconds = time.perf_counter() - start


def index_new_features(db, index_dir: Path, manifest: dict[str, Any], cfg: dict[str, Any],
                       report: BuildReport) -> dict[str, Any]:
    """Train the index if there is none, add every done artwork not yet in it, switch over."""
    rows = db.execute("SELECT id, shard, row, fh, fw FROM artworks WHERE state='done' "
                      "AND indexed=0 ORDER BY id").fetchall()
    if not rows:
        return manifest
    store = FeatureStore(index_dir)
    old_file = manifest.get("index_file")
    with store:
        if old_file:
            index = faiss.read_index(str(index_dir / old_file))
        else:
            every = db.execute("SELECT id, shard, row, fh, fw FROM artworks "
                               "WHERE state='done' ORDER BY id").fetchall()
            n_patches = sum((r["fh"] - 2) * (r["fw"] - 2) for r in every)
            factory, nlist = resolve_factory(cfg["factory"], n_patches)
            start = time.perf_counter()
            want = min(cfg["ivf_train_max"], max(cfg["pca_train"], cfg["ivf_train_per_list"] * nlist))
            index = train_index(factory, store, every, cfg["pca_train"], want)
            report.train_seconds = time.perf_counter() - start
            manifest |= {"factory": factory, "nlist": nlist, "trained_on": min(want, n_patches)}
        start = time.perf_counter()
        max_side = math.ceil(cfg["image_size"] / stride_of(cfg["layer"]))
        with progress_bar("art") as bar:
            task = bar.add_task("indexing", total=len(rows), status="")
            index = add_artworks(index, store, rows, (max_side - 2) ** 2,
                                 lambda: bar.update(task, advance=1))
        report.add_seconds = time.perf_counter() - start
    generation = manifest.get("generation", 0) + 1
    name = save_index(index, index_dir, generation)
    manifest |= {"index_file": name, "generation": generation, "patches": index.ntotal}
    write_manifest(index_dir, manifest)
    with db:
        db.executemany("UPDATE artworks SET indexed=1, stale=0 WHERE id=?",
                       [(r["id"],) for r in rows])
    for path in index_dir.glob("index-*.faiss"):
        if path.name != name:
            path.unlink()
    report.indexed_now = len(rows)
    return manifest


def build_index(art_dir: Path, index_dir: Path, cfg: dict[str, Any], backbone: Backbone,
                device: torch.device,
                on_artwork: Callable[[int], None] | None = None) -> BuildReport:
    """Bring INDEX_DIR up to date with ART_DIR; safe to kill and re-run at any moment."""
    if not art_dir.is_dir():
        raise CollectionError(f"{art_dir}: no such folder")
    icfg = cfg["index"]
    artworks = scan(art_dir)
    if not artworks:
        raise CollectionError(f"{art_dir}: no images found")
    wanted = binding(backbone, icfg) | {"factory_template": icfg["factory"]}
    manifest = read_manifest(index_dir)
    if manifest is not None:
        check_compatible(index_dir, manifest, wanted)
        if manifest.get("factory_template") != icfg["factory"]:
            raise IndexMismatchError(
                f"index {index_dir} was built with factory {manifest.get('factory_template')!r}, "
                f"not {icfg['factory']!r}; rebuild it in a new --index directory")
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    manifest = (manifest or {"format": FORMAT, "created": now, "collection": str(art_dir)}) | wanted
    index_dir.mkdir(parents=True, exist_ok=True)
    db = cat.open_catalog(index_dir)
    report = BuildReport()
    try:
        report.added, report.changed = cat.sync(db, art_dir, artworks)
        _extract_pending(db, art_dir, index_dir, backbone, icfg, cfg["images"]["max_pixels"],
                         device, report, on_artwork)
        manifest = index_new_features(db, index_dir, manifest, icfg, report)
        report.counts = cat.counts(db)
        report.failures = cat.failures(db)
        manifest |= {"updated": now, "counts": report.counts,
                     "faiss_device": "gpu" if gpu_available() else "cpu"}
        write_manifest(index_dir, manifest)
    finally:
        db.close()
    return report
