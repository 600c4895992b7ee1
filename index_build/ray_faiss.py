"""FAISS filled by shards in parallel on Ray, then merged into one on-disk index.

Each Ray task adds a run of artworks to its own copy of the trained, empty index and
writes it as a FAISS shard; `faiss.contrib.ondisk.merge_ondisk` then writes every
inverted list once into `index-N.ivfdata`, beside the small `index-N.faiss` the build
saves. What the index already held goes in as one more shard, so an update adds only
the new artworks. Shards are written under the index folder: on a cluster that folder
(and the collection) must be on storage every node can read.

A fast-scan index (the default `PQ64x4fsr`) packs its codes in blocks that FAISS keeps
in memory only, so its shards are merged in memory and saved as one file, as the local
build saves it (81,444 WikiArt artworks make about 0.5 GB of lists).
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

import faiss
import numpy as np
from faiss.contrib.ondisk import merge_ondisk

from index_build.faiss_index import add_artworks, index_name, is_fast_scan, remove_artworks
from index_build.ondisk import c_stdout_silenced, ivfdata_of, sync_file
from index_build.store import FeatureStore


def add_by_shards(index: faiss.Index, store: FeatureStore, rows: list, max_positions: int,
                  index_dir: Path, generation: int,
                  advance: Callable[[int], None]) -> faiss.Index:
    """The Ray engine's Fill (engine.py): `index` comes back holding its old patches and
    those of `rows`, its lists in `index-N.ivfdata` for generation N."""
    import ray

    remove_artworks(index, [r["id"] for r in rows], max_positions)
    work = index_dir / f".faiss-shards-{generation:06d}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    shards = []
    if index.ntotal:
        shards.append(work / "held.faiss")
        faiss.write_index(index, str(shards[0]))
    _empty(index)
    trained = ray.put(faiss.serialize_index(index))
    add = ray.remote(num_cpus=1)(_add_shard)
    runs = _runs([dict(r) for r in rows], int(ray.cluster_resources().get("CPU", 1)))
    todo = {}
    for i, run in enumerate(runs):
        shards.append(work / f"shard-{i:05d}.faiss")
        todo[add.remote(trained, index_dir, run, max_positions, shards[-1])] = len(run)
    while todo:
        (ready,), _ = ray.wait(list(todo))
        ray.get(ready)
        advance(todo.pop(ready))
    merge_shards(index, shards, ivfdata_of(index_dir / index_name(generation)))
    shutil.rmtree(work)
    return index


def merge_shards(index: faiss.Index, shards: list[Path], data: Path) -> None:
    """The shards' lists into the empty `index`: on disk at `data`, or in memory for a
    fast-scan index."""
    if is_fast_scan(index):
        ivf = faiss.extract_index_ivf(index)
        for path in shards:
            shard = faiss.read_index(str(path))  # held: its IVF part dies with it
            ivf.merge_from(faiss.extract_index_ivf(shard), 0)
        index.ntotal = ivf.ntotal
        return
    with c_stdout_silenced():
        merge_ondisk(index, [str(path) for path in shards], str(data.resolve()))
    sync_file(data)


def _runs(rows: list[dict], n: int) -> list[list[dict]]:
    """`n` runs of consecutive artworks (so each task reads few feature shards)."""
    n = max(1, min(n, len(rows)))
    return [rows[i * len(rows) // n:(i + 1) * len(rows) // n] for i in range(n)]


def _empty(index: faiss.Index) -> None:
    """Drop the index's patches in place, keeping what training made."""
    if is_fast_scan(index):
        index.reset()
        return
    ivf = faiss.extract_index_ivf(index)
    lists = faiss.ArrayInvertedLists(ivf.nlist, ivf.code_size)
    ivf.replace_invlists(lists, True)
    lists.this.disown()
    index.ntotal = ivf.ntotal = 0


def _add_shard(trained: np.ndarray, index_dir: Path, rows: list[dict], max_positions: int,
               path: Path) -> None:
    """One Ray task: the patches of `rows` in a copy of the trained index, saved at `path`."""
    index = faiss.deserialize_index(trained)
    with FeatureStore(index_dir) as store:
        index = add_artworks(index, store, rows, max_positions)
    faiss.write_index(index, str(path))
