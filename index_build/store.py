"""The feature store: float16 relu5_3 maps in HDF5 shards, written whole or not at all.

A shard is written to a temporary name and renamed into place before the catalog
marks its artworks done, so a crash leaves either a complete shard the catalog knows,
or an orphan the next run overwrites; never a half-written file the catalog trusts.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from core.errors import IndexDamagedError
from core.files import replace_durably

FEATURES_DIR = "features"


def write_shard(index_dir: Path, name: str,
                maps: list[np.ndarray]) -> tuple[list[int], dict[str, Any]]:
    """Write (h, w, C) maps into one shard; returns each map's first row, and the file's
    size and SHA-256 for `index verify`."""
    folder = index_dir / FEATURES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    rows, offset = [], 0
    for fmap in maps:
        rows.append(offset)
        offset += fmap.shape[0] * fmap.shape[1]
    flat = np.concatenate([m.reshape(-1, m.shape[-1]) for m in maps]).astype(np.float16, copy=False)
    tmp = folder / f".{name}.tmp"
    with h5py.File(tmp, "w") as handle:
        # Contiguous, not chunked: a map is then one read of its own bytes. Chunks of 4,096
        # rows made each map (about 200 rows) read a 4 MB chunk, 10x the time of a re-rank.
        handle.create_dataset("feats", data=flat)
    return rows, replace_durably(tmp, folder / name)


def shard_length(path: Path) -> int:
    """Rows in a shard; IndexDamagedError when it is missing or unreadable."""
    try:
        with h5py.File(path, "r") as handle:
            return len(handle["feats"])
    except (OSError, KeyError):
        raise IndexDamagedError(f"{path} is missing or unreadable") from None


class FeatureStore:
    """Reads maps back by (shard, row, h, w); keeps shard files open between reads.

    A contiguous shard is memory-mapped: its float16 rows are then read by numpy without
    an HDF5 call each (a re-rank of 800 maps at 50,000: 67 ms of HDF5 calls, 6 ms mapped).
    The arrays `read` and `read_many` return are read-only views of the file; `stack`
    preads maps into one new array instead, for the scoring paths. Chunked shards (built
    before 2026-11-25) are read through HDF5.
    """

    def __init__(self, index_dir: Path):
        self.folder = index_dir / FEATURES_DIR
        self._open: dict[str, h5py.File] = {}
        # The datasets too: looking one up by name costs a tenth of a map's read.
        self._feats: dict[str, h5py.Dataset | np.ndarray] = {}
        self._fds: dict[str, int] = {}

    def _dataset(self, shard: str) -> h5py.Dataset | np.ndarray:
        if shard not in self._feats:
            path = self.folder / shard
            try:
                handle = h5py.File(path, "r")
                feats = handle["feats"]
                offset = feats.id.get_offset()
                if feats.chunks is None and offset is not None and feats.dtype == np.float16:
                    self._feats[shard] = np.memmap(path, np.float16, "r", offset, feats.shape)
                    handle.close()
                else:
                    self._open[shard] = handle
                    self._feats[shard] = feats
            except (OSError, KeyError, ValueError):
                raise IndexDamagedError(
                    f"{path} is missing or unreadable; run `artifier index build "
                    f"ART_DIR --index {self.folder.parent}` to repair it") from None
        return self._feats[shard]

    def read(self, shard: str, row: int, fh: int, fw: int) -> np.ndarray:
        return self._rows(shard, row, row + fh * fw).reshape(fh, fw, -1)

    def _rows(self, shard: str, lo: int, hi: int) -> np.ndarray:
        rows = self._dataset(shard)[lo:hi]
        if len(rows) != hi - lo:
            self._cut_short(shard)
        return rows

    def _cut_short(self, shard: str) -> None:
        raise IndexDamagedError(
            f"{self.folder / shard} is shorter than the catalog says; run `artifier index "
            f"build ART_DIR --index {self.folder.parent}` to repair it")

    def stack(self, rows: list) -> np.ndarray:
        """Maps of catalog rows of one shape as one (n, h, w, C) array, in order.

        From a contiguous shard each map is one pread into the array, not a copy out of
        the mapping, whose page faults cost more than the copy: 600 maps from a store
        opened afresh, 48 ms against 60 (`bench/store_reads.py --maps 600`).
        """
        first = rows[0]
        channels = self._dataset(first["shard"]).shape[-1]
        out = np.empty((len(rows), first["fh"], first["fw"], channels), np.float16)
        for target, r in zip(out, rows):
            data = self._dataset(r["shard"])
            if not isinstance(data, np.memmap):
                target[...] = self.read(r["shard"], r["row"], r["fh"], r["fw"])
                continue
            if r["shard"] not in self._fds:
                self._fds[r["shard"]] = os.open(data.filename, os.O_RDONLY)
            view = memoryview(target).cast("B")
            if os.preadv(self._fds[r["shard"]], [view],
                         data.offset + r["row"] * channels * out.itemsize) != len(view):
                self._cut_short(r["shard"])
        return out

    def read_many(self, rows: list) -> list[np.ndarray]:
        """Maps of catalog rows (with shard, row, fh, fw), in order. Rows that lie close
        together in a shard are read in one span: one HDF5 call instead of one each."""
        out: dict[int, np.ndarray] = {}
        by_shard: dict[str, list[int]] = {}
        for i, r in enumerate(rows):
            by_shard.setdefault(r["shard"], []).append(i)
        for shard, members in by_shard.items():
            lo = min(rows[i]["row"] for i in members)
            hi = max(rows[i]["row"] + rows[i]["fh"] * rows[i]["fw"] for i in members)
            needed = sum(rows[i]["fh"] * rows[i]["fw"] for i in members)
            if hi - lo > 4 * needed:
                for i in members:
                    r = rows[i]
                    out[i] = self.read(shard, r["row"], r["fh"], r["fw"])
                continue
            span = self._rows(shard, lo, hi)
            for i in members:
                r = rows[i]
                start = r["row"] - lo
                out[i] = span[start:start + r["fh"] * r["fw"]].reshape(r["fh"], r["fw"], -1)
        return [out[i] for i in range(len(rows))]

    def close(self) -> None:
        self._feats.clear()
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()
        for handle in self._open.values():
            handle.close()
        self._open.clear()

    def __enter__(self) -> "FeatureStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
