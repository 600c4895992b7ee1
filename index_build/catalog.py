"""The catalog: one SQLite row per artwork, the build's source of truth for what is done."""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterable

from artifier.files import file_sha256
from index_build.scan import Artwork

CATALOG_FILE = "catalog.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS artworks (
    id      INTEGER PRIMARY KEY,
    path    TEXT UNIQUE NOT NULL,
    hash    TEXT NOT NULL,
    size    INTEGER NOT NULL,
    mtime   REAL NOT NULL,
    artist  TEXT NOT NULL DEFAULT '',
    title   TEXT NOT NULL DEFAULT '',
    style   TEXT NOT NULL DEFAULT '',
    year    TEXT NOT NULL DEFAULT '',
    width   INTEGER,
    height  INTEGER,
    state   TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
    error   TEXT,
    shard   TEXT,
    row     INTEGER,
    fh      INTEGER,
    fw      INTEGER,
    indexed INTEGER NOT NULL DEFAULT 0,
    stale   INTEGER NOT NULL DEFAULT 0  -- changed on disk: its old patches must leave the index
);
"""


def open_catalog(index_dir: Path) -> sqlite3.Connection:
    index_dir.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(index_dir / CATALOG_FILE)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(SCHEMA)
    return db


def sync(db: sqlite3.Connection, root: Path, artworks: Iterable[Artwork]) -> tuple[int, int]:
    """Add new files and reset changed ones to pending; returns (added, changed).

    A file whose size and mtime are unchanged is not read again, so a re-run over a
    large collection costs a directory walk, not 26 GB of hashing.
    """
    known = {r["path"]: r for r in db.execute("SELECT path, hash, size, mtime FROM artworks")}
    added = changed = 0
    with db:
        for art in artworks:
            stat = (root / art.path).stat()
            old = known.get(art.path)
            if old and old["size"] == stat.st_size and old["mtime"] == stat.st_mtime:
                db.execute("UPDATE artworks SET artist=?, title=?, style=?, year=? WHERE path=?",
                           (art.artist, art.title, art.style, art.year, art.path))
                continue
            digest = file_sha256(root / art.path)
            if old is None:
                db.execute("INSERT INTO artworks (path, hash, size, mtime, artist, title, style, year)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           (art.path, digest, stat.st_size, stat.st_mtime, art.artist, art.title,
                            art.style, art.year))
                added += 1
            elif old["hash"] != digest:
                db.execute("UPDATE artworks SET hash=?, size=?, mtime=?, state='pending', error=NULL,"
                           " stale=indexed, indexed=0 WHERE path=?",
                           (digest, stat.st_size, stat.st_mtime, art.path))
                changed += 1
            else:
                db.execute("UPDATE artworks SET size=?, mtime=? WHERE path=?",
                           (stat.st_size, stat.st_mtime, art.path))
    return added, changed


def counts(db: sqlite3.Connection) -> dict[str, int]:
    rows = db.execute("SELECT state, COUNT(*) AS n FROM artworks GROUP BY state")
    result = {"pending": 0, "done": 0, "failed": 0} | {r["state"]: r["n"] for r in rows}
    result["indexed"] = db.execute("SELECT COUNT(*) FROM artworks WHERE indexed=1").fetchone()[0]
    return result


def failures(db: sqlite3.Connection) -> list[tuple[str, str]]:
    return [(r["path"], r["error"]) for r in
            db.execute("SELECT path, error FROM artworks WHERE state='failed' ORDER BY path")]
