"""`artifier index verify`: every file the index needs is there, whole, and agrees with the
catalog. The build runs the same checks first and repairs what they find."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import IndexDamagedError, IndexMissingError
from core.files import file_sha256
from index_build import catalog as cat
from index_build.faiss_index import read_index
from index_build.manifest import MANIFEST_FILE, check_index_dir, read_manifest
from index_build.ondisk import ivfdata_of
from index_build.store import FEATURES_DIR, shard_length


@dataclass
class Problem:
    kind: str  # "manifest", "shard" or "faiss": what the build repairs
    file: str  # relative to the index folder
    why: str

    def __str__(self) -> str:
        return f"{self.file}: {self.why}"


def _mismatch(path: Path, record: dict[str, Any] | None) -> str | None:
    """Why a file differs from its record (size first: cheap), or None."""
    if not path.is_file():
        return "missing"
    if record is None:
        return None
    size = path.stat().st_size
    if size != record["size"]:
        return f"{size:,} bytes, {record['size']:,} when written (truncated or replaced)"
    if file_sha256(path) != record["sha256"]:
        return "checksum differs from when it was written (corrupted)"
    return None


def shard_problems(index_dir: Path, db: sqlite3.Connection) -> list[Problem]:
    """Shards the done artworks live in: present, unchanged, and long enough."""
    records = ({r["name"]: dict(r) for r in db.execute("SELECT * FROM shards")}
               if cat.has_table(db, "shards") else {})
    needed = db.execute("SELECT shard, MAX(row + fh * fw) AS rows FROM artworks "
                        "WHERE state='done' GROUP BY shard ORDER BY shard").fetchall()
    problems = []
    for r in needed:
        rel, path = f"{FEATURES_DIR}/{r['shard']}", index_dir / FEATURES_DIR / r["shard"]
        why = _mismatch(path, records.get(r["shard"]))
        if why is None:
            try:
                if shard_length(path) < r["rows"]:
                    why = "holds fewer rows than the catalog says"
            except IndexDamagedError:
                why = "not a readable HDF5 feature file"
        if why:
            problems.append(Problem("shard", rel, why))
    return problems


def faiss_problems(index_dir: Path, db: sqlite3.Connection,
                   manifest: dict[str, Any]) -> list[Problem]:
    """The FAISS file (and its on-disk lists): present, unchanged, readable, and holding
    every indexed patch."""
    name, expected = manifest.get("index_file"), cat.indexed_patches(db)
    if not name:
        return [Problem("faiss", MANIFEST_FILE, f"names no FAISS file, but the catalog has "
                        f"{expected:,} indexed patches")] if expected else []
    files, data = manifest.get("files", {}), ivfdata_of(index_dir / name).name
    for file in (name, data) if data in files else (name,):
        if why := _mismatch(index_dir / file, files.get(file)):
            return [Problem("faiss", file, why)]
    try:
        held = read_index(index_dir / name, mmap=True).ntotal
        if held != expected:
            why = f"holds {held:,} patches, the catalog {expected:,}"
    except IndexDamagedError:
        why = "not a readable FAISS index"
    return [Problem("faiss", name, why)] if why else []


def count_problems(db: sqlite3.Connection, manifest: dict[str, Any]) -> list[Problem]:
    now = cat.counts(db)
    said = manifest.get("counts", {})
    wrong = [f"{k} {said.get(k)} (catalog {v})" for k, v in now.items() if said.get(k, 0) != v]
    return [Problem("manifest", MANIFEST_FILE, "counts disagree with the catalog: "
                    + ", ".join(wrong))] if wrong else []


def verify_index(index_dir: Path) -> list[Problem]:
    """Every problem found, each naming its file; an empty list for a sound index."""
    check_index_dir(index_dir)
    if not (index_dir / cat.CATALOG_FILE).is_file():
        raise IndexMissingError(f"no index at {index_dir}")
    db = cat.open_catalog(index_dir, readonly=True)
    try:
        problems = shard_problems(index_dir, db)
        try:
            manifest = read_manifest(index_dir)
        except IndexDamagedError:
            return problems + [Problem("manifest", MANIFEST_FILE, "not valid JSON")]
        if manifest is None:
            return problems + [Problem("manifest", MANIFEST_FILE, "missing")]
        return problems + faiss_problems(index_dir, db, manifest) + count_problems(db, manifest)
    finally:
        db.close()
