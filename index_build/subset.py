"""Make a sample of a collection as a folder of links, with its metadata.csv rows.

    python -m index_build.subset SRC DST --every 8

The demo indexes such a sample so it finishes in minutes; nothing is copied.
"""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

from index_build.scan import METADATA_FILE, scan


def make_subset(src: Path, dst: Path, every: int) -> int:
    dst.mkdir(parents=True, exist_ok=True)
    chosen = scan(src)[::every]
    for art in chosen:
        link = dst / art.path
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.is_symlink():
            link.symlink_to((src / art.path).resolve())
    metadata = src / METADATA_FILE
    if metadata.is_file():
        keep = {Path(a.path).name for a in chosen} | {a.path for a in chosen}
        with open(metadata, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            rows = [r for r in reader if r["file"] in keep]
            fields = reader.fieldnames or []
        with open(dst / METADATA_FILE, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
    return len(chosen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=Path)
    parser.add_argument("dst", type=Path)
    parser.add_argument("--every", type=int, default=8, help="Keep every N-th artwork.")
    args = parser.parse_args()
    print(f"{make_subset(args.src, args.dst, args.every)} artworks linked into {args.dst}")


if __name__ == "__main__":
    main()
