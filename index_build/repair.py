"""What a build mends before it adds anything: a lost or broken manifest, a damaged FAISS
file, missing or damaged feature shards. Each repair is one line of the build report."""
from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from core.errors import IndexDamagedError
from index_build import catalog as cat
from index_build.manifest import FORMAT, MANIFEST_FILE, read_manifest
from index_build.ondisk import index_file_records
from index_build.verify import faiss_problems, shard_problems

# Manifest keys that never change once set: kept in the catalog too, so a lost manifest
# can be written again.
DURABLE = ("format", "created", "collection", "source", "backbone", "weights_sha256", "layer",
           "image_size", "patch_size", "factory_template", "factory", "nlist", "trained_on",
           "precision")
_GENERATION = re.compile(r"^index-(\d+)\.faiss$")


def remember(db: sqlite3.Connection, manifest: dict[str, Any]) -> None:
    cat.save_meta(db, {k: manifest[k] for k in DURABLE if k in manifest})


def _newest_faiss(index_dir: Path) -> tuple[str, int] | None:
    found = [(p.name, int(m.group(1))) for p in index_dir.glob("index-*.faiss")
             if (m := _GENERATION.match(p.name))]
    return max(found, key=lambda f: f[1]) if found else None


def recover_manifest(index_dir: Path, db: sqlite3.Connection, wanted: dict[str, Any],
                     now: str) -> tuple[dict[str, Any], list[str]]:
    """The manifest, written anew from the catalog when it is lost or broken; the newest
    FAISS file is adopted (the checks that follow retrain it if it is bad)."""
    try:
        manifest = read_manifest(index_dir)
        why = "missing"
    except IndexDamagedError:
        manifest, why = None, "not valid JSON"
    if manifest is not None:
        return manifest, []
    if db.execute("SELECT 1 FROM artworks LIMIT 1").fetchone() is None:
        fresh = {"format": FORMAT, "created": now}
        return fresh, [] if why == "missing" else [f"{MANIFEST_FILE}: {why}; started anew"]
    meta = cat.load_meta(db)
    manifest = {"format": FORMAT, "created": now} | (meta or wanted)
    line = f"{MANIFEST_FILE}: {why}; rebuilt from the catalog"
    if not meta:
        line += " (its settings assumed to be today's: this catalog predates their record)"
    newest = _newest_faiss(index_dir)
    if newest:
        name, generation = newest
        manifest |= {"index_file": name, "generation": generation,
                     "files": index_file_records(index_dir / name)}
    return manifest, [line]


def repair_files(index_dir: Path, db: sqlite3.Connection, manifest: dict[str, Any]) -> list[str]:
    """Send the artworks of bad shards back to extraction, and a bad FAISS file back to
    training. FAISS is checked first: artworks leaving a bad shard change its counts."""
    lines = []
    for problem in faiss_problems(index_dir, db, manifest):
        with db:
            db.execute("UPDATE artworks SET indexed=0, stale=0")
        for key in ("index_file", "factory", "nlist", "trained_on"):
            manifest.pop(key, None)
        lines.append(f"{problem}; the FAISS index will be trained again")
    for problem in shard_problems(index_dir, db):
        shard = Path(problem.file).name
        with db:
            n = db.execute("UPDATE artworks SET state='pending', stale=MAX(stale, indexed), "
                           "indexed=0, shard=NULL, row=NULL WHERE state='done' AND shard=?",
                           (shard,)).rowcount
            db.execute("DELETE FROM shards WHERE name=?", (shard,))
        lines.append(f"{problem}; its {n} artworks will be extracted again")
    return lines
