"""File helpers: checksums (weights, catalog, index files) and durable renames."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_record(path: Path) -> dict[str, Any]:
    """Size and SHA-256 of a file, as the manifest lists them for `index verify`."""
    return {"size": path.stat().st_size, "sha256": file_sha256(path)}


def replace_durably(tmp: Path, dest: Path) -> dict[str, Any]:
    """Flush `tmp` to disk and rename it to `dest`, so `dest` is whole or absent after a
    crash; returns its file_record."""
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    record = file_record(tmp)
    os.replace(tmp, dest)
    return record
