"""Find the artworks under a folder and what is known about each."""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from core.errors import CollectionError
from core.images import IMAGE_SUFFIXES

METADATA_FILE = "metadata.csv"
_YEAR = re.compile(r"-(\d{4})$")


@dataclass(frozen=True)
class Artwork:
    path: str  # the key: a file relative to the collection root, with forward slashes
    artist: str
    title: str
    style: str
    year: str
    # What tells, without reading the bytes, that an artwork may have changed.
    size: int = 0
    mtime: float = 0.0


def words(slug: str) -> str:
    return " ".join(part for part in slug.replace("_", " ").split("-") if part)


def from_file_name(rel: Path, wikiart_style: str | None) -> Artwork:
    """Metadata from `Style/artist-slug_title-slug-1889.jpg`, or from a plain file name."""
    stem = rel.stem
    year = ""
    artist_slug, sep, title_slug = stem.partition("_")
    if not sep:
        artist_slug, title_slug = "", stem
    match = _YEAR.search(title_slug)
    if match:
        year, title_slug = match.group(1), title_slug[: match.start()]
    title = words(title_slug)
    return Artwork(rel.as_posix(), words(artist_slug).title(), title[:1].upper() + title[1:],
                   wikiart_style or "", year)


def read_metadata(root: Path) -> dict[str, dict[str, str]]:
    """Rows of ROOT/metadata.csv keyed by their `file` column (a name or a relative path)."""
    path = root / METADATA_FILE
    if not path.is_file():
        return {}
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            if "file" not in (reader.fieldnames or []):
                raise CollectionError(f"{path}: no 'file' column in the header line; it names "
                                      "each image (a file name or a path under the folder)")
            return {row["file"]: row for row in reader if row.get("file")}
    except UnicodeDecodeError as exc:
        raise CollectionError(f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at "
                              f"offset {exc.start}); save it as UTF-8") from None
    except csv.Error as exc:
        raise CollectionError(f"{path}: not a readable CSV file ({exc})") from None


def scan(root: Path) -> list[Artwork]:
    """Every image under `root`, sorted by path, with metadata from CSV, layout or name."""
    metadata = read_metadata(root)
    found = []
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
            continue
        rel = path.relative_to(root)
        row = metadata.get(rel.as_posix()) or metadata.get(rel.name) or {}
        guessed = from_file_name(rel, rel.parts[0].replace("_", " ") if len(rel.parts) == 2 else None)
        stat = path.stat()
        found.append(Artwork(rel.as_posix(), row.get("artist") or guessed.artist,
                             row.get("title") or guessed.title, row.get("style") or guessed.style,
                             row.get("year") or guessed.year, stat.st_size, stat.st_mtime))
    return found
