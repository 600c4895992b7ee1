"""WikiArt as Hugging Face ships it (`huggan/wikiart`): parquet shards whose rows hold the
encoded image and class ids for artist, genre and style.

An artwork is the key `SHARD#ROW` (the shard's path under the collection), read straight
from the shard: nothing is extracted to disk. Class names come from the `huggingface`
schema metadata; without it the ids stand in. A shard's size and modification time are
its rows' fingerprint, so an unchanged shard is not read again on a re-run.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from PIL import Image

from core.errors import CollectionError, ImageError
from core.files import file_sha256
from core.images import decode_image
from index_build.scan import Artwork, words

SUFFIX = ".parquet"
SEPARATOR = "#"
BATCH_ROWS = 64


def is_parquet_collection(root: Path) -> bool:
    return root.is_dir() and any(root.rglob(f"*{SUFFIX}"))


def _shards(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob(f"*{SUFFIX}") if p.is_file())


def _class_names(schema: Any) -> dict[str, list[str]]:
    """Each ClassLabel column's names, from the `huggingface` schema metadata."""
    raw = (schema.metadata or {}).get(b"huggingface")
    if not raw:
        return {}
    try:
        features = json.loads(raw)["info"]["features"]
    except (ValueError, KeyError, TypeError):
        return {}
    return {col: f["names"] for col, f in features.items()
            if isinstance(f, dict) and isinstance(f.get("names"), list)}


def _label(value: Any, names: list[str] | None) -> str:
    """A class id as its name: `Abstract_Expressionism` and `vincent-van-gogh` read as words."""
    if value is None:
        return ""
    name = names[value] if names and isinstance(value, int) and 0 <= value < len(names) else str(value)
    readable = words(name.replace("_", " "))
    return readable.title() if "-" in name and " " not in name else readable


def _open(path: Path):
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise CollectionError(f"{path}: not a readable parquet file ({exc})") from None


def scan(root: Path) -> list[Artwork]:
    """Every row of every shard, with artist and style names, fingerprinted by its shard.
    A shard that cannot be read is one artwork keyed by the shard alone: the build then
    reports it failed, as it does a bad image file, and indexes the other shards."""
    found = []
    for shard in _shards(root):
        stat, rel = shard.stat(), shard.relative_to(root).as_posix()
        try:
            found += _rows(shard, rel, stat.st_size, stat.st_mtime)
        except CollectionError:
            found.append(Artwork(rel, "", "", "", "", stat.st_size, stat.st_mtime))
    return found


def _rows(shard: Path, rel: str, size: int, mtime: float) -> list[Artwork]:
    pf = _open(shard)
    if "image" not in pf.schema_arrow.names:
        raise CollectionError(f"{shard}: no 'image' column (the huggan/wikiart schema has "
                              "image, artist, genre, style)")
    names = _class_names(pf.schema_arrow)
    columns = [c for c in ("artist", "style") if c in pf.schema_arrow.names]
    try:
        table, rows = pf.read(columns=columns), pf.metadata.num_rows
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise CollectionError(f"{shard}: not a readable parquet file ({exc})") from None
    artists, styles = (table.column(c).to_pylist() if c in columns else [None] * rows
                       for c in ("artist", "style"))
    return [Artwork(f"{rel}{SEPARATOR}{row}", _label(artist, names.get("artist")), "",
                    _label(style, names.get("style")), "", size, mtime)
            for row, (artist, style) in enumerate(zip(artists, styles))]


def shard_error(shard: Path) -> ImageError:
    """Why a shard listed as a whole (see `scan`) yields no artworks, as a failure."""
    try:
        _rows(shard, shard.name, 0, 0.0)
    except CollectionError as exc:
        return ImageError(str(exc))
    return ImageError(f"{shard}: a parquet shard, not one row of it (SHARD.parquet#ROW)")


def _image_bytes(value: Any) -> bytes | None:
    """The encoded image of a cell: the `bytes` of the Image struct (or the bytes)."""
    if isinstance(value, dict):
        value = value.get("bytes")
    return value if isinstance(value, (bytes, bytearray)) else None


def names_row(key: str) -> bool:
    """Whether `key` is written as a parquet row, SHARD.parquet#ROW, whatever its row."""
    shard, sep, _ = key.rpartition(SEPARATOR)
    return bool(sep) and shard.endswith(SUFFIX)


def split_key(key: str) -> tuple[str, int]:
    shard, sep, row = key.rpartition(SEPARATOR)
    if not sep or not shard.endswith(SUFFIX):
        raise ImageError(f"{key}: not a parquet row (SHARD.parquet#ROW)")
    if not row.isdigit():
        raise ImageError(f"{key}: {row!r} is not a row number (rows count from 0: "
                         f"{shard}{SEPARATOR}0)")
    return shard, int(row)


def hashes(root: Path, keys: Iterable[str]) -> dict[str, str]:
    """SHA-256 of each row's image bytes, reading each shard named once, in batches."""
    wanted: dict[str, set[int]] = {}
    digests = {}
    for key in keys:
        if not names_row(key):  # an unreadable shard listed whole: its bytes are its content
            digests[key] = file_sha256(root / key)
            continue
        shard, row = split_key(key)
        wanted.setdefault(shard, set()).add(row)
    for shard, rows in wanted.items():
        row = 0
        for batch in _open(root / shard).iter_batches(batch_size=BATCH_ROWS, columns=["image"]):
            for value in batch.column(0).to_pylist():
                if row in rows:
                    digests[f"{shard}{SEPARATOR}{row}"] = hashlib.sha256(
                        _image_bytes(value) or b"").hexdigest()
                row += 1
    return digests


@lru_cache(maxsize=8)
def _group_starts(path: str, mtime: float) -> tuple[int, ...]:
    meta = _open(Path(path)).metadata
    starts, at = [], 0
    for group in range(meta.num_row_groups):
        starts.append(at)
        at += meta.row_group(group).num_rows
    return (*starts, at)


@lru_cache(maxsize=2)
def _group_images(path: str, mtime: float, group: int) -> list[Any]:
    """One row group's image cells: reads walk a shard in order, so one group serves many."""
    return _open(Path(path)).read_row_group(group, columns=["image"]).column(0).to_pylist()


def open_row(shard: Path, row: int, max_pixels: int) -> Image.Image:
    """The image of one row, or an ImageError naming SHARD#ROW."""
    name = f"{shard}{SEPARATOR}{row}"
    if not shard.is_file():
        raise ImageError(f"{shard}: no such file")
    mtime = shard.stat().st_mtime
    starts = _group_starts(str(shard), mtime)
    if not 0 <= row < starts[-1]:
        raise ImageError(f"{name}: the shard has {starts[-1]} rows")
    group = max(g for g, start in enumerate(starts[:-1]) if start <= row)
    data = _image_bytes(_group_images(str(shard), mtime, group)[row - starts[group]])
    if not data:
        raise ImageError(f"{name}: the row holds no image bytes")
    return decode_image(bytes(data), name, max_pixels)
