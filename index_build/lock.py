"""One writer per index: a second `index build` of the same folder is refused, not raced."""
from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from core.errors import IndexLockedError

LOCK_FILE = ".lock"


@contextmanager
def index_lock(index_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on INDEX_DIR; the kernel drops it when the process dies."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / LOCK_FILE, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise IndexLockedError(f"index {index_dir} is being written by another process "
                                   f"(pid {holder}); wait for it to finish") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
