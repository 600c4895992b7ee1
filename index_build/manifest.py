"""The manifest: what an index was built with, so a query can refuse a mismatch."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from core.errors import IndexDamagedError, IndexMismatchError, IndexMissingError
from core.files import replace_durably
from core.precision import resolve_precision

MANIFEST_FILE = "manifest.json"
FORMAT = 1
# Keys that must agree between an index and whoever uses it.
BINDING = ("backbone", "weights_sha256", "layer", "image_size", "patch_size")


def check_index_dir(index_dir: Path) -> None:
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexMissingError(f"{index_dir} is not a folder; --index names an index folder")


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    """The manifest, None when there is none, IndexDamagedError when it is not valid JSON."""
    path = index_dir / MANIFEST_FILE
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text())
    except (ValueError, OSError) as exc:
        raise IndexDamagedError(f"{path} is damaged ({exc}); run `artifier index build ART_DIR "
                                f"--index {index_dir}` to rebuild it from the catalog") from None
    if not isinstance(manifest, dict):
        raise IndexDamagedError(f"{path} is damaged (not a JSON object); run `artifier index "
                                f"build ART_DIR --index {index_dir}` to rebuild it")
    return manifest


def write_manifest(index_dir: Path, manifest: dict[str, Any]) -> None:
    tmp = index_dir / f".{MANIFEST_FILE}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    replace_durably(tmp, index_dir / MANIFEST_FILE)


def check_compatible(index_dir: Path, manifest: dict[str, Any], wanted: dict[str, Any]) -> None:
    """Raise IndexMismatchError naming the first setting that differs."""
    for key in BINDING:
        if key in wanted and manifest.get(key) != wanted[key]:
            raise IndexMismatchError(
                f"index {index_dir} was built with {key}={manifest.get(key)!r}, "
                f"but {wanted[key]!r} is asked for; rebuild it or use another --index")


def built_precision(manifest: dict[str, Any]) -> str:
    """The precision an index's maps were made in; indexes from before it was recorded
    were made in float32."""
    return manifest.get("precision", "float32")


def build_precision(index_dir: Path, manifest: dict[str, Any], setting: str,
                    device: torch.device) -> str:
    """The precision a build makes maps in: a new index's is `setting` resolved for the
    `device` the network runs on; an index already begun keeps its own (under `auto`), so
    every map of it was made alike, and refuses another."""
    if "backbone" not in manifest:
        return resolve_precision(setting, device)
    built = built_precision(manifest)
    if setting not in ("auto", built):
        raise IndexMismatchError(
            f"index {index_dir} was built with precision={built!r}, but {setting!r} is asked "
            f"for; leave index.precision at \"auto\" to add to it, or use another --index")
    return built


def require_index(index_dir: Path, faiss: bool = True) -> dict[str, Any]:
    """The manifest of a finished index, or an error saying how to make or mend one.
    With `faiss` False, a store whose FAISS stage has not run will do (exact scoring)."""
    check_index_dir(index_dir)
    manifest = read_manifest(index_dir)
    repair = f"`artifier index build ART_DIR --index {index_dir}`"
    if manifest is None and (index_dir / "catalog.sqlite").is_file():
        raise IndexDamagedError(f"{index_dir / MANIFEST_FILE} is missing; run {repair} to "
                                "rebuild it from the catalog")
    if manifest is None or (faiss and not manifest.get("index_file")):
        raise IndexMissingError(f"no index at {index_dir}; build one with {repair}")
    if manifest.get("format") != FORMAT:
        raise IndexMismatchError(f"index {index_dir} has format {manifest.get('format')}, "
                                 f"this Artifier reads format {FORMAT}; rebuild it")
    return manifest
