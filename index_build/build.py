"""`artifier index build`: scan, extract features, index patches; resumable at any moment.

Order of durable writes, so a kill anywhere loses at most one shard of work:
1. a feature shard is renamed into place, then its artworks are marked done;
2. a new index file is renamed into place, then the manifest switches to it, then the
   catalog marks the artworks indexed (and re-adding removes an artwork's old patches
   first, so a kill between the last two steps leaves no duplicates);
3. an artwork whose file is gone is marked missing at once (queries skip it), and its
   patches leave FAISS with the next index file.
Before any of this the build checks the files it already has and mends what it can
(`index_build/repair.py`).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import torch

from core.backbone import Backbone
from core.layers import stride_of
from core.errors import CollectionError, IndexMismatchError
from core.progress import progress_bar
from index_build import catalog as cat
from index_build.engine import Engine, Features, Fill, fill_here, local_engine
from index_build.faiss_index import (drop_generations, gpu_available, read_index, remove_artworks,
                                     resolve_factory, save_index, small_sample_note, train_index)
from index_build.lock import index_lock
from index_build.manifest import (build_precision, check_compatible, check_index_dir,
                                  write_manifest)
from index_build.ondisk import index_file_records, ivfdata_of
from index_build.repair import recover_manifest, remember, repair_files
from index_build import sources
from index_build.store import FEATURES_DIR, FeatureStore, write_shard


@dataclass
class BuildReport:
    added: int = 0
    changed: int = 0
    gone: int = 0
    extracted: int = 0
    failed_now: int = 0
    indexed_now: int = 0
    removed_now: int = 0
    feature_seconds: float = 0.0
    train_seconds: float = 0.0
    add_seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Peak resident memory of each extraction worker of another engine (ray_engine.py).
    worker_peak_mb: list[float] = field(default_factory=list)


def binding(backbone: Backbone, cfg: dict[str, Any]) -> dict[str, Any]:
    """The settings an index is tied to; queries must use the same."""
    return {"backbone": backbone.name, "weights_sha256": backbone.weights_sha256,
            "layer": cfg["layer"], "image_size": cfg["image_size"], "patch_size": 3}


def _next_shard(db) -> int:
    last = db.execute("SELECT MAX(shard) FROM artworks").fetchone()[0]
    return int(last.split("-")[1].split(".")[0]) + 1 if last else 1


def _extract_pending(db, root: Path, index_dir: Path, features: Features, precision: str,
                     shard_size: int, report: BuildReport,
                     on_artwork: Callable[[int], None] | None) -> None:
    pending = [(r["id"], r["path"]) for r in
               db.execute("SELECT id, path FROM artworks WHERE state='pending' ORDER BY id")]
    if not pending:
        return
    shard_no = _next_shard(db)
    done: list[tuple] = []
    failed: list[tuple] = []

    def flush() -> None:
        nonlocal shard_no
        name = f"shard-{shard_no:06d}.h5"
        rows, record = write_shard(index_dir, name, [d[1] for d in done]) if done else ([], {})
        with db:
            if done:
                db.execute("INSERT OR REPLACE INTO shards (name, size, sha256) VALUES (?, ?, ?)",
                           (name, record["size"], record["sha256"]))
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
        for item in features(root, pending, precision):
            (done if item[1] is not None else failed).append(item)
            if len(done) + len(failed) >= shard_size:
                flush()
            bar.update(task, advance=1,
                       status=f"{report.failed_now + len(failed)} failed" if failed or
                       report.failed_now else "")
            if on_artwork:
                on_artwork(item[0])
        flush()
    report.feature_seconds = time.perf_counter() - start


def update_faiss(db, index_dir: Path, manifest: dict[str, Any], cfg: dict[str, Any],
                 report: BuildReport, fill: Fill = fill_here) -> dict[str, Any]:
    """Remove the patches of artworks that left or broke, add every done artwork not yet
    in the index (training it first if there is none; `fill` adds, here or elsewhere),
    then switch over in one rename."""
    rows = db.execute("SELECT id, shard, row, fh, fw FROM artworks WHERE state='done' "
                      "AND indexed=0 ORDER BY id").fetchall()
    leaving = [r["id"] for r in db.execute(
        "SELECT id FROM artworks WHERE stale=1 AND state IN ('missing', 'failed')")]
    old_file = manifest.get("index_file")
    if not rows and (not leaving or not old_file):
        with db:
            db.execute("UPDATE artworks SET stale=0 WHERE state IN ('missing', 'failed')")
        return manifest
    max_side = math.ceil(cfg["image_size"] / stride_of(cfg["layer"]))
    store = FeatureStore(index_dir)
    with store:
        if old_file:
            index = read_index(index_dir / old_file)
        else:
            every = db.execute("SELECT id, shard, row, fh, fw FROM artworks "
                               "WHERE state='done' ORDER BY id").fetchall()
            n_patches = sum((r["fh"] - 2) * (r["fw"] - 2) for r in every)
            factory, nlist = resolve_factory(cfg["factory"], n_patches)
            start = time.perf_counter()
            want = min(cfg["ivf_train_max"], max(cfg["pca_train"], cfg["ivf_train_per_list"] * nlist))
            index = train_index(factory, store, every, cfg["pca_train"], want)
            report.train_seconds = time.perf_counter() - start
            trained_on = min(want, n_patches)
            manifest |= {"factory": factory, "nlist": nlist, "trained_on": trained_on}
            report.notes += filter(None, [small_sample_note(index, trained_on)])
        remove_artworks(index, leaving, (max_side - 2) ** 2)
        generation = manifest.get("generation", 0) + 1
        drop_generations(index_dir, keep=manifest.get("generation"))  # a dead run's leftovers
        start = time.perf_counter()
        if rows:
            with progress_bar("art") as bar:
                task = bar.add_task("indexing", total=len(rows), status="")
                index = fill(index, store, rows, (max_side - 2) ** 2, index_dir, generation,
                             lambda n: bar.update(task, advance=n))
        report.add_seconds = time.perf_counter() - start
    name, record = save_index(index, index_dir, generation)
    manifest |= {"index_file": name, "generation": generation, "patches": index.ntotal,
                 "files": index_file_records(index_dir / name, record)}
    write_manifest(index_dir, manifest)
    with db:
        db.executemany("UPDATE artworks SET indexed=1, stale=0 WHERE id=?",
                       [(r["id"],) for r in rows])
        db.executemany("UPDATE artworks SET stale=0 WHERE id=?", [(i,) for i in leaving])
    drop_generations(index_dir, keep=generation)
    report.indexed_now, report.removed_now = len(rows), len(leaving)
    return manifest


def _listed_files(db, manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Size and checksum of every file the index is made of, for `index verify`."""
    used = {r[0] for r in db.execute("SELECT DISTINCT shard FROM artworks WHERE state='done'")}
    files = {f"{FEATURES_DIR}/{r['name']}": {"size": r["size"], "sha256": r["sha256"]}
             for r in db.execute("SELECT * FROM shards ORDER BY name") if r["name"] in used}
    name = manifest.get("index_file")
    data = ivfdata_of(Path(name)).name if name else None
    return files | {k: v for k, v in manifest.get("files", {}).items() if k in (name, data)}


def build_index(art_dir: Path, index_dir: Path, cfg: dict[str, Any], backbone: Backbone,
                device: torch.device, on_artwork: Callable[[int], None] | None = None,
                engine: Engine | None = None) -> BuildReport:
    """Bring INDEX_DIR up to date with ART_DIR, mending what is damaged; safe to kill and
    re-run at any moment, refused while another build holds the index. `engine` (the
    local one by default) makes the maps and fills FAISS."""
    engine = engine or local_engine(backbone, cfg, device)
    if not art_dir.is_dir():
        raise CollectionError(f"{art_dir}: no such folder")
    check_index_dir(index_dir)
    icfg = cfg["index"]
    kind = sources.detect(art_dir)
    artworks, unnamed = sources.storable(sources.scan(art_dir, kind))
    if not artworks:
        raise CollectionError(f"{art_dir}: no images found")
    wanted = binding(backbone, icfg) | {"factory_template": icfg["factory"]}
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    collection = str(art_dir.resolve())
    report = BuildReport()
    if unnamed:
        report.notes.append(
            f"skipped {len(unnamed)} file{'s' * (len(unnamed) > 1)} whose name is not UTF-8 "
            f"(e.g. {unnamed[0]}): rename them (convmv -f latin1 -t utf8) to index them")
    with index_lock(index_dir):
        db = cat.open_catalog(index_dir)
        try:
            manifest, report.repairs = recover_manifest(index_dir, db, wanted, now)
            if "backbone" in manifest:
                check_compatible(index_dir, manifest, wanted)
            if manifest.get("factory_template", icfg["factory"]) != icfg["factory"]:
                raise IndexMismatchError(
                    f"index {index_dir} was built with factory {manifest['factory_template']!r}, "
                    f"not {icfg['factory']!r}; rebuild it in a new --index directory")
            report.repairs += repair_files(index_dir, db, manifest)
            precision = build_precision(index_dir, manifest, icfg["precision"], engine.device)
            if manifest.get("collection") not in (None, collection):
                report.notes.append(f"collection now at {collection} (was {manifest['collection']})")
            manifest |= wanted | {"collection": collection, "source": kind,
                                  "precision": precision}
            remember(db, manifest)
            report.added, report.changed, report.gone = cat.sync(
                db, artworks, lambda arts: sources.content_hashes(art_dir, kind, arts))
            _extract_pending(db, art_dir, index_dir, engine.features, precision,
                             icfg["shard_size"], report, on_artwork)
            manifest = update_faiss(db, index_dir, manifest, icfg, report, engine.fill)
            remember(db, manifest)
            report.counts = cat.counts(db)
            report.failures = cat.failures(db)
            manifest |= {"updated": now, "counts": report.counts,
                         "files": _listed_files(db, manifest),
                         "faiss_device": "gpu" if gpu_available() else "cpu"}
            write_manifest(index_dir, manifest)
        finally:
            db.close()
    return report
