"""Read-only access to a built index: manifest, catalog rows, features, FAISS index."""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Iterable, Iterator

import faiss
import torch

from core.backbone import Backbone
from core.errors import CollectionError, IndexDamagedError
from index_build.build import binding
from index_build.catalog import open_catalog
from index_build.faiss_index import read_index
from index_build.manifest import check_compatible, require_index
from index_build.store import FeatureStore

ROW_COLUMNS = "id, path, artist, title, style, year, shard, row, fh, fw"
# Builds that may replace the FAISS file while one query opens it, before that is damage.
SWITCH_RETRIES = 5


def by_shape(rows: Iterable[sqlite3.Row]) -> dict[tuple[int, int], list[sqlite3.Row]]:
    """Rows grouped by their map's (height, width), groups in order of first appearance:
    maps of one shape stack into one batch."""
    groups: dict[tuple[int, int], list[sqlite3.Row]] = {}
    for r in rows:
        groups.setdefault((r["fh"], r["fw"]), []).append(r)
    return groups


class IndexView:
    """An index opened for queries: checked against the backbone and settings in use."""

    def __init__(self, index_dir: Path, backbone: Backbone, cfg: dict[str, Any],
                 faiss: bool = True):
        self.dir = index_dir
        self.manifest = require_index(index_dir, faiss)
        check_compatible(index_dir, self.manifest, binding(backbone, cfg["index"]))
        self.collection = Path(self.manifest["collection"])
        if not self.collection.is_dir():
            raise CollectionError(
                f"the collection of index {index_dir} was at {self.collection}, which is not "
                f"there now; if it moved, run `artifier index build NEW_PLACE --index "
                f"{index_dir}` to point the index at it")
        # The photo's precision as set (retrieval.precision); resolved per device by
        # retrieval/search.py's query_precision.
        self.precision = cfg["retrieval"]["precision"]
        self.db = open_catalog(index_dir, readonly=True)
        self.store = FeatureStore(index_dir)
        self._faiss: faiss.Index | None = None
        # Set by retrieval/resident.py: "faiss" or "exact", and the maps held for exact.
        self.mode: str | None = None
        self.resident: Any = None

    @property
    def faiss(self) -> faiss.Index:
        """Memory-mapped where FAISS can, so opening an 8-bit PQ index reads only what a
        search touches; fast-scan lists are read whole (0.26 s at 50,000 artworks)."""
        if self._faiss is None:
            self._faiss = self._read_current()
        return self._faiss

    def _read_current(self) -> faiss.Index:
        """The FAISS file the manifest names, read again when a build replaced it between
        the manifest's reading and the file's opening: readers take no lock, and a build
        switches the manifest to a new file and then deletes the old one. A file once
        open stays readable whatever the build deletes."""
        for _ in range(SWITCH_RETRIES):
            try:
                return read_index(self.dir / self.manifest["index_file"], mmap=True)
            except IndexDamagedError:
                fresh = require_index(self.dir)
                if fresh.get("index_file") == self.manifest["index_file"]:
                    raise
                self.manifest = fresh
        return read_index(self.dir / self.manifest["index_file"], mmap=True)

    def rows(self, ids: Iterable[int] | None = None,
             style: str | None = None) -> list[sqlite3.Row]:
        """The artworks of `ids` in that order, or all of them (of one `style`, if given)."""
        if ids is None:
            where, args = ("AND style=?", [style]) if style is not None else ("", [])
            return self.db.execute(f"SELECT {ROW_COLUMNS} FROM artworks WHERE state='done' "
                                   f"{where} ORDER BY shard, row", args).fetchall()
        ids = [int(i) for i in ids]
        found = {r["id"]: r for r in self.db.execute(
            f"SELECT {ROW_COLUMNS} FROM artworks WHERE state='done' "
            f"AND id IN ({','.join('?' * len(ids))})", ids)}
        return [found[i] for i in ids if i in found]

    def batches(self, rows: list[sqlite3.Row], size: int,
                device: torch.device) -> Iterator[tuple[list[sqlite3.Row], torch.Tensor]]:
        """Rows grouped by map shape, `size` at a time, with their maps as (B, C, H, W)."""
        for group in by_shape(rows).values():
            for start in range(0, len(group), size):
                chunk = group[start:start + size]
                maps = torch.from_numpy(self.store.stack(chunk))
                yield chunk, maps.to(device).permute(0, 3, 1, 2)

    def styles(self) -> list[tuple[str, int]]:
        """Each style of the collection with its number of artworks, largest first."""
        return [tuple(r) for r in self.db.execute(
            "SELECT style, COUNT(*) AS n FROM artworks WHERE state='done' AND style != '' "
            "GROUP BY style ORDER BY n DESC, style")]

    def count(self, limit: int = -1) -> int:
        """Done artworks, counted up to `limit` (all of them by default): a query only asks
        whether they outnumber its shortlist, and counting 50,000 took 8-12 ms."""
        return self.db.execute("SELECT COUNT(*) FROM (SELECT 1 FROM artworks WHERE "
                               "state='done' LIMIT ?)", (limit,)).fetchone()[0]

    def locator(self, row: sqlite3.Row) -> str:
        """Where the artwork is: its file, or its parquet row (index_build/sources.py)."""
        return str(self.collection / row["path"])

    def close(self) -> None:
        self.store.close()
        self.db.close()
