"""The manifest: what an index was built with, so a query can refuse a mismatch."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from artifier.errors import IndexMismatchError, IndexMissingError

MANIFEST_FILE = "manifest.json"
FORMAT = 1
# Keys that must agree between an index and whoever uses it.
BINDING = ("backbone", "weights_sha256", "layer", "image_size", "patch_size")


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    path = index_dir / MANIFEST_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text())


def write_manifest(index_dir: Path, manifest: dict[str, Any]) -> None:
    tmp = index_dir / f".{MANIFEST_FILE}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, index_dir / MANIFEST_FILE)


def check_compatible(index_dir: Path, manifest: dict[str, Any], wanted: dict[str, Any]) -> None:
    """Raise IndexMismatchError naming the first setting that differs."""
    for key in BINDING:
        if key in wanted and manifest.get(key) != wanted[key]:
            raise IndexMismatchError(
                f"index {index_dir} was built with {key}={manifest.get(key)!r}, "
                f"but {wanted[key]!r} is asked for; rebuild it or use another --index")


def require_index(index_dir: Path) -> dict[str, Any]:
    """The manifest of a finished index, or IndexMissingError saying how to make one."""
    manifest = read_manifest(index_dir)
    if manifest is None or not manifest.get("index_file"):
        raise IndexMissingError(
            f"no index at {index_dir}; build one with `artifier index build ART_DIR --index "
            f"{index_dir}`")
    if manifest.get("format") != FORMAT:
        raise IndexMismatchError(f"index {index_dir} has format {manifest.get('format')}, "
                                 f"this Artifier reads format {FORMAT}; rebuild it")
    return manifest
