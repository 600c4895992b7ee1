"""The catalog: one SQLite row per artwork, the build's source of truth for what is done."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, Callable, Iterable

from core.errors import IndexDamagedError
from index_build.scan import Artwork

CATALOG_FILE = "catalog.sqlite"
ARTWORKS = """
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
    -- missing: the file left the collection; kept so its id is never reused
    state   TEXT NOT NULL DEFAULT 'pending'
            CHECK (state IN ('pending', 'done', 'failed', 'missing')),
    error   TEXT,
    shard   TEXT,
    row     INTEGER,
    fh      INTEGER,
    fw      INTEGER,
    indexed INTEGER NOT NULL DEFAULT 0,
    stale   INTEGER NOT NULL DEFAULT 0  -- old patches may still be in FAISS: remove them
)"""
# Each feature shard's size and checksum, recorded when it is renamed into place.
SHARDS = "CREATE TABLE IF NOT EXISTS shards (name TEXT PRIMARY KEY, size INTEGER, sha256 TEXT)"
# What the manifest holds that cannot be read back from the files: it is rebuilt from here.
META = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"


def _add_missing_state(db: sqlite3.Connection) -> None:
    """Catalogs written before artworks could go missing refuse that state: copy them over."""
    sql = db.execute("SELECT sql FROM sqlite_master WHERE name='artworks'").fetchone()
    if sql is None or "'missing'" in sql[0]:
        return
    with db:
        db.execute("ALTER TABLE artworks RENAME TO artworks_old")
        db.execute(ARTWORKS)
        db.execute("INSERT INTO artworks SELECT * FROM artworks_old")
        db.execute("DROP TABLE artworks_old")


def open_catalog(index_dir: Path, readonly: bool = False) -> sqlite3.Connection:
    """The catalog (created when writing); IndexDamagedError when it is not a sound database."""
    path = index_dir / CATALOG_FILE
    if readonly:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    else:
        index_dir.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        if not readonly:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
        check = db.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise sqlite3.DatabaseError(check)
        if not readonly:
            _add_missing_state(db)
            for statement in (ARTWORKS, SHARDS, META):
                db.execute(statement)
    except sqlite3.DatabaseError as exc:
        db.close()
        raise IndexDamagedError(
            f"{path} is damaged ({exc}) and cannot be rebuilt from the other files; "
            f"move the index folder away and build it again") from None
    return db


def sync(db: sqlite3.Connection, artworks: Iterable[Artwork],
         hashes: Callable[[list[Artwork]], dict[str, str]]) -> tuple[int, int, int]:
    """Add new artworks, reset changed ones to pending, mark vanished ones missing;
    returns (added, changed, gone). `hashes` gives the content hash of artworks by key.

    An artwork whose size and mtime are unchanged is not read again, so a re-run over a
    large collection costs a directory walk, not 26 GB of hashing.
    """
    known = {r["path"]: r for r in db.execute("SELECT path, hash, size, mtime, state FROM artworks")}
    seen: set[str] = set()
    added = changed = 0
    to_read = []
    with db:
        for art in artworks:
            seen.add(art.path)
            old = known.get(art.path)
            back = old is not None and old["state"] == "missing"
            if old and not back and old["size"] == art.size and old["mtime"] == art.mtime:
                db.execute("UPDATE artworks SET artist=?, title=?, style=?, year=? WHERE path=?",
                           (art.artist, art.title, art.style, art.year, art.path))
            else:
                to_read.append(art)
    digests = hashes(to_read)
    with db:
        for art in to_read:
            old, digest = known.get(art.path), digests[art.path]
            back = old is not None and old["state"] == "missing"
            if old is None:
                db.execute("INSERT INTO artworks (path, hash, size, mtime, artist, title, style, year)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           (art.path, digest, art.size, art.mtime, art.artist, art.title,
                            art.style, art.year))
                added += 1
            elif back or old["hash"] != digest:
                db.execute("UPDATE artworks SET hash=?, size=?, mtime=?, state='pending', error=NULL,"
                           " stale=MAX(stale, indexed), indexed=0 WHERE path=?",
                           (digest, art.size, art.mtime, art.path))
                added, changed = added + back, changed + (not back)
            else:
                db.execute("UPDATE artworks SET size=?, mtime=? WHERE path=?",
                           (art.size, art.mtime, art.path))
        gone = [(path,) for path, r in known.items() if path not in seen and r["state"] != "missing"]
        db.executemany("UPDATE artworks SET state='missing', error=NULL, "
                       "stale=MAX(stale, indexed), indexed=0 WHERE path=?", gone)
    return added, changed, len(gone)


def counts(db: sqlite3.Connection) -> dict[str, int]:
    rows = db.execute("SELECT state, COUNT(*) AS n FROM artworks GROUP BY state")
    result = {"pending": 0, "done": 0, "failed": 0, "missing": 0} | {r["state"]: r["n"] for r in rows}
    result["indexed"] = db.execute("SELECT COUNT(*) FROM artworks WHERE indexed=1").fetchone()[0]
    return result


def failures(db: sqlite3.Connection) -> list[tuple[str, str]]:
    return [(r["path"], r["error"]) for r in
            db.execute("SELECT path, error FROM artworks WHERE state='failed' ORDER BY path")]


def indexed_patches(db: sqlite3.Connection) -> int:
    """How many patches FAISS must hold: every 3x3 window of every indexed map."""
    return db.execute("SELECT COALESCE(SUM((fh - 2) * (fw - 2)), 0) FROM artworks "
                      "WHERE indexed=1").fetchone()[0]


def has_table(db: sqlite3.Connection, name: str) -> bool:
    """Catalogs from before a table existed lack it; readers treat it as empty."""
    return db.execute("SELECT 1 FROM sqlite_master WHERE name=?", (name,)).fetchone() is not None


def save_meta(db: sqlite3.Connection, values: dict[str, Any]) -> None:
    with db:
        db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                       [(k, json.dumps(v)) for k, v in values.items()])


def load_meta(db: sqlite3.Connection) -> dict[str, Any]:
    if not has_table(db, "meta"):
        return {}
    return {r["key"]: json.loads(r["value"]) for r in db.execute("SELECT key, value FROM meta")}
