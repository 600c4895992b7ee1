"""FAISS indexes whose inverted lists live in a file of their own (`faiss.contrib.ondisk`).

The Ray engine merges its FAISS shards into `index-N.ivfdata` beside `index-N.faiss`; an
index file with such a file beside it is read this way. FAISS records the lists file by
the path it was written at, so it is looked up beside the index instead: a copied or
moved index folder then reads its own lists, never the old folder's.
"""
from __future__ import annotations

import ctypes
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import faiss

from core.files import file_record

SUFFIX = ".ivfdata"


def ivfdata_of(index_path: Path) -> Path:
    return index_path.with_suffix(SUFFIX)


def index_file_records(index_path: Path,
                       index_record: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """The manifest's records (size, SHA-256) of an index file and of its lists file when it
    has one; `index_record` when the caller already has the index file's."""
    data = ivfdata_of(index_path)
    return ({index_path.name: index_record or file_record(index_path)}
            | ({data.name: file_record(data)} if data.is_file() else {}))


@contextmanager
def c_stdout_silenced() -> Iterator[None]:
    """FAISS's on-disk lists print from C to stdout (`resizing ...`, `IO_FLAG_ONDISK_SAME_DIR:
    updating ...`), which would corrupt `retrieve --json`; send that to /dev/null."""
    libc = ctypes.CDLL(None)
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        libc.fflush(None)
        os.dup2(saved, 1)
        os.close(saved)


def read_ondisk(path: Path, in_memory: bool) -> faiss.Index:
    """The on-disk index at `path`, its lists mapped read-only from the file beside it, or
    copied into memory (`in_memory`) so that changing the index never touches that file."""
    with c_stdout_silenced():
        index = faiss.read_index(str(path), faiss.IO_FLAG_ONDISK_SAME_DIR | faiss.IO_FLAG_READ_ONLY)
    if in_memory:
        _lists_to_memory(index)
    return index


def _lists_to_memory(index: faiss.Index) -> None:
    ivf = faiss.extract_index_ivf(index)
    disk = ivf.invlists
    memory = faiss.ArrayInvertedLists(ivf.nlist, ivf.code_size)
    for lst in range(ivf.nlist):
        if n := disk.list_size(lst):
            memory.add_entries(lst, n, disk.get_ids(lst), disk.get_codes(lst))
    ivf.replace_invlists(memory, True)
    memory.this.disown()


def sync_file(path: Path) -> None:
    """Flush a file written through a memory map (the merged lists) to the disk."""
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())
