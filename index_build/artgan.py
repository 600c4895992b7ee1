"""WikiArt as the ArtGAN project ships it: `wikiart/` with a folder per style, and CSV
splits (`style_train.csv`: `Style/file.jpg,class_index`, no header) with class lists
(`style_class.txt`: `index Name` per line), for style, artist and genre.

Styles and artists come from the class lists, through the CSVs. A folder's files that no
CSV lists take the class most of its listed files have, so `Art_Nouveau_Modern/` reads as
the class `Art_Nouveau` it holds, not as a style of its own. Names mangled by an unzip
that read UTF-8 as code page 437 are matched to the CSVs after repair.
"""
from __future__ import annotations

import csv
import unicodedata
from collections import Counter
from pathlib import Path

from core.errors import CollectionError
from index_build.scan import Artwork, scan as scan_folder, words

CLASS_LIST = "{}_class.txt"
SPLITS = ("train", "val")
IMAGES_FOLDER = "wikiart"


def _lists_dir(root: Path) -> Path | None:
    """The folder holding `style_class.txt`: the root or one folder below it."""
    for folder in [root, *sorted(p for p in root.iterdir() if p.is_dir())]:
        if (folder / CLASS_LIST.format("style")).is_file():
            return folder
    return None


def is_artgan_collection(root: Path) -> bool:
    return root.is_dir() and _lists_dir(root) is not None


def canonical(name: str) -> str:
    """A file name as its author wrote it: mojibake from a cp437 or latin-1 reading of
    UTF-8 is undone, and the result is NFC."""
    for wrong in ("cp437", "cp1252", "latin-1"):
        try:
            repaired = name.encode(wrong).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if repaired != name:
            return unicodedata.normalize("NFC", repaired)
    return unicodedata.normalize("NFC", name)


def _read_classes(path: Path) -> dict[int, str]:
    if not path.is_file():
        return {}
    classes = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        index, _, name = line.strip().partition(" ")
        if not line.strip():
            continue
        if not index.isdigit() or not name:
            raise CollectionError(f"{path}, line {number}: expected 'index Name', got {line!r}")
        classes[int(index)] = words(name.replace("_", " "))
    return classes


def _read_labels(lists: Path, kind: str) -> dict[str, str]:
    """Class name by canonical file path, from every split of one kind."""
    classes = _read_classes(lists / CLASS_LIST.format(kind))
    labels = {}
    for split in SPLITS:
        path = lists / f"{kind}_{split}.csv"
        if not path.is_file():
            continue
        with open(path, newline="", encoding="utf-8", errors="surrogateescape") as handle:
            for row in csv.reader(handle):
                if len(row) >= 2 and row[1].strip().isdigit():
                    index = int(row[1])
                    labels[canonical(row[0].strip())] = classes.get(index, str(index))
    return labels


def scan(root: Path) -> list[Artwork]:
    """The images of the tree with style and artist from the CSVs and class lists."""
    lists = _lists_dir(root)
    images = root / IMAGES_FOLDER if (root / IMAGES_FOLDER).is_dir() else root
    prefix = images.relative_to(root).as_posix() + "/" if images != root else ""
    files = scan_folder(images)
    styles, artists = _read_labels(lists, "style"), _read_labels(lists, "artist")
    keys = {art.path: canonical(art.path) for art in files}
    by_folder: dict[str, Counter] = {}
    for art in files:
        if keys[art.path] in styles:
            by_folder.setdefault(art.path.split("/")[0], Counter())[styles[keys[art.path]]] += 1
    found = []
    for art in files:
        folder = art.path.split("/")[0]
        style = (styles.get(keys[art.path])
                 or (by_folder[folder].most_common(1)[0][0] if folder in by_folder else art.style))
        found.append(Artwork(prefix + art.path, artists.get(keys[art.path]) or art.artist,
                             art.title, style, art.year, art.size, art.mtime))
    return found
