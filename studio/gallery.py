"""Past results: a row each in gallery.sqlite, files in a folder each under the results
folder (result.png as the CLI writes it, photo.png, painting.png, provenance.json)."""
from __future__ import annotations

import json
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

from studio.uploads import ID_PATTERN

DB_NAME = "gallery.sqlite"
SCHEMA = """CREATE TABLE IF NOT EXISTS results (
    id TEXT PRIMARY KEY, created REAL, painting_name TEXT, seconds REAL, settings TEXT)"""


def _connect(results: Path) -> sqlite3.Connection:
    results.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(results / DB_NAME)
    db.row_factory = sqlite3.Row
    db.execute(SCHEMA)
    return db


def result_dir(results: Path, result_id: str) -> Path:
    """A result's folder; ValueError for anything that is not a generated id."""
    if not ID_PATTERN.fullmatch(result_id):
        raise ValueError(f"not a result id: {result_id!r}")
    return results / result_id


def add_result(results: Path, result_id: str, painting_name: str, seconds: float,
               settings: dict[str, Any]) -> None:
    """Record a result whose files are already in its folder."""
    with _connect(results) as db:
        db.execute("INSERT INTO results VALUES (?, ?, ?, ?, ?)",
                   (result_id, time.time(), painting_name, seconds, json.dumps(settings)))
    db.close()


def _as_dict(row: sqlite3.Row) -> dict[str, Any]:
    return {"id": row["id"], "created": row["created"], "painting_name": row["painting_name"],
            "seconds": row["seconds"], "settings": json.loads(row["settings"])}


def list_results(results: Path) -> list[dict[str, Any]]:
    """Newest first."""
    db = _connect(results)
    try:
        return [_as_dict(r) for r in db.execute("SELECT * FROM results ORDER BY created DESC")]
    finally:
        db.close()


def get_result(results: Path, result_id: str) -> dict[str, Any] | None:
    db = _connect(results)
    try:
        row = db.execute("SELECT * FROM results WHERE id=?", (result_id,)).fetchone()
    finally:
        db.close()
    return _as_dict(row) if row else None


def delete_result(results: Path, result_id: str) -> bool:
    """Forget a result and remove its files; False when there was none."""
    folder = result_dir(results, result_id)
    with _connect(results) as db:
        gone = db.execute("DELETE FROM results WHERE id=?", (result_id,)).rowcount
    db.close()
    shutil.rmtree(folder, ignore_errors=True)
    return bool(gone)
