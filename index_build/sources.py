"""The kinds of collection an index can be built from, behind one set of functions.

- folder: any tree of image files (metadata.csv, `Style/artist_title-year.jpg` names);
- artgan: the ArtGAN `wikiart` tree with its CSV splits and class lists;
- parquet: shards in the Hugging Face `huggan/wikiart` schema.

An artwork is a key under the collection root: a file's relative path, or `SHARD#ROW`.
Root and key together make its locator (`str(root / key)`), which is all that retrieval,
transfer and the studio need to open it again.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from PIL import Image

from core.errors import CollectionError
from core.files import file_sha256
from core.images import IMAGE_SUFFIXES, load_image
from index_build import artgan, parquet_source
from index_build.scan import Artwork, scan as scan_folder

KINDS = ("folder", "artgan", "parquet")


def detect(root: Path) -> str:
    """The collection's kind. A folder holding both shards and image files is refused:
    taking either kind alone would drop the other's artworks from the index."""
    if parquet_source.is_parquet_collection(root):
        image = next((p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES), None)
        if image is not None:
            raise CollectionError(f"{root} holds both parquet shards and image files (e.g. "
                                  f"{image.relative_to(root)}); index them as separate "
                                  "collections")
        return "parquet"
    if artgan.is_artgan_collection(root):
        return "artgan"
    return "folder"


def scan(root: Path, kind: str) -> list[Artwork]:
    """Every artwork of the collection, sorted by key, with what is known of it."""
    if kind == "parquet":
        return parquet_source.scan(root)
    if kind == "artgan":
        return artgan.scan(root)
    return scan_folder(root)


def storable(artworks: list[Artwork]) -> tuple[list[Artwork], list[str]]:
    """The artworks whose keys are text, and the others' names shown with escapes: a file
    name that is not UTF-8 (bytes from another code page) cannot be a catalog key."""
    kept, unnamed = [], []
    for art in artworks:
        try:
            art.path.encode("utf-8")
            kept.append(art)
        except UnicodeEncodeError:
            unnamed.append(os.fsencode(art.path).decode("utf-8", "backslashreplace"))
    return kept, unnamed


def content_hashes(root: Path, kind: str, artworks: Iterable[Artwork]) -> dict[str, str]:
    """SHA-256 of each artwork's encoded bytes, by key."""
    keys = [art.path for art in artworks]
    if kind == "parquet":
        return parquet_source.hashes(root, keys)
    return {key: file_sha256(root / key) for key in keys}


def parquet_row(locator: str | Path) -> tuple[Path, int] | None:
    """Shard and row when `locator` names a parquet row rather than a file."""
    if Path(locator).is_file() or not parquet_source.names_row(str(locator)):
        return None
    shard, row = parquet_source.split_key(str(locator))
    return Path(shard), row


def open_located(locator: str | Path, max_pixels: int) -> Image.Image:
    """The artwork at a locator: an image file or a parquet row (ImageError if neither)."""
    row = parquet_row(locator)
    if row is None and Path(locator).suffix == parquet_source.SUFFIX:
        raise parquet_source.shard_error(Path(locator))
    if row is None:
        return load_image(locator, max_pixels)
    return parquet_source.open_row(*row, max_pixels)


def located_exists(locator: str | Path) -> bool:
    row = parquet_row(locator)
    return Path(row[0] if row else locator).is_file()
