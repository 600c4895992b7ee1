"""Reading maps back from the feature store: shards as written before (chunks of 4,096 rows)
against shards as written now (contiguous), and the ways a scoring batch gets its maps out
of contiguous shards, the same maps side by side in one run.

    python bench/store_reads.py [--index indexes/synthetic-50k] [--shards 16] [--maps 300]

The maps of `--shards` shards of the index are written out again both ways, into a
scratch folder; then the same random `--maps` maps (a re-rank's shortlist) are read from
each in turn, through the store's own readers, each time by a store opened afresh (as a
query's process opens it). `read_many` of a contiguous shard returns views of the mapping,
whose pages are only touched when scoring copies them out; the rows below that time the
copy as well.
"""
from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index_build.store import FEATURES_DIR, FeatureStore  # noqa: E402  (repo root first)
from retrieval.catalog_view import by_shape  # noqa: E402

OLD_CHUNK_ROWS = 4096


def rewrite(index: Path, shards: list[str], dst: Path, chunked: bool) -> None:
    (dst / FEATURES_DIR).mkdir(parents=True)
    for name in shards:
        with h5py.File(index / FEATURES_DIR / name, "r") as handle:
            flat = handle["feats"][:]
        chunks = (min(len(flat), OLD_CHUNK_ROWS), flat.shape[1]) if chunked else None
        with h5py.File(dst / FEATURES_DIR / name, "w") as handle:
            handle.create_dataset("feats", data=flat, chunks=chunks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / "indexes" / "synthetic-50k")
    parser.add_argument("--shards", type=int, default=16)
    parser.add_argument("--maps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    db = sqlite3.connect(args.index / "catalog.sqlite")
    db.row_factory = sqlite3.Row
    shards = [r[0] for r in db.execute("SELECT name FROM shards ORDER BY name LIMIT ?",
                                       (args.shards,))]
    rows = db.execute(f"SELECT shard, row, fh, fw FROM artworks WHERE state='done' AND shard IN "
                      f"({','.join('?' * len(shards))})", shards).fetchall()
    scratch = Path(tempfile.mkdtemp())
    chunked, contiguous = scratch / "chunked", scratch / "contiguous"
    rewrite(args.index, shards, chunked, True)
    rewrite(args.index, shards, contiguous, False)

    def copied(store: FeatureStore, pick: list) -> None:
        for group in by_shape(pick).values():
            np.stack(store.read_many(group))

    def stacked(store: FeatureStore, pick: list) -> None:
        for group in by_shape(pick).values():
            store.stack(group)

    readers = {"chunks of 4,096 rows, read_many (before 2026-11-25)":
               (chunked, FeatureStore.read_many),
               "contiguous, read_many (views, not yet read)": (contiguous, FeatureStore.read_many),
               "contiguous, read_many + np.stack (scoring before 2026-11-27)": (contiguous, copied),
               "contiguous, stack: one pread a map (scoring now)": (contiguous, stacked)}
    times: dict[str, list[float]] = {label: [] for label in readers}
    rng = random.Random(0)
    for _ in range(args.repeats):
        pick = rng.sample(rows, args.maps)
        for label, (folder, read) in readers.items():
            with FeatureStore(folder) as store:
                start = time.perf_counter()
                read(store, pick)
                times[label].append(time.perf_counter() - start)
    shutil.rmtree(scratch)
    print(f"{args.maps} random maps from {len(shards)} shards of {args.index.name} "
          f"({len(rows):,} maps), median of {args.repeats}, files in the page cache")
    print("| layout, reader | ms per read of the maps | ratio |\n|---|---|---|")
    base = median(next(iter(times.values())))
    for label, values in times.items():
        print(f"| {label} | {median(values) * 1000:.0f} | {base / median(values):.1f}x |")


if __name__ == "__main__":
    main()
