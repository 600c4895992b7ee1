"""A studio over the small test index, painting tiny pictures quickly."""
from __future__ import annotations

import struct
import threading
import time
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from core.config import load_config

# Few iterations, so a painting takes seconds; the minimum size the shared pairs allow.
TINY = ["transfer.schedules.fast.iterations=[4, 3, 2]", "transfer.schedule=\"fast\"",
        "studio.preview_seconds=0.0"]


def studio_config(results: Path, *overrides: str) -> dict:
    return load_config(None, [*TINY, f'studio.results="{results}"', *overrides])


@contextmanager
def served(studio) -> Iterator[str]:
    """The studio served by uvicorn on a free port of 127.0.0.1, in a thread; its URL."""
    import uvicorn

    from studio.app import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(studio), host="127.0.0.1", port=0,
                                           log_level="warning", timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the studio did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)


def wait_for(job_state, done=lambda s: s["state"] in ("done", "failed", "cancelled"),
             timeout: float = 300.0) -> dict:
    """Poll `job_state()` until `done` holds for it."""
    deadline = time.monotonic() + timeout
    while True:
        state = job_state()
        if done(state) or time.monotonic() > deadline:
            return state
        time.sleep(0.1)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims `width` x `height` pixels and holds almost nothing: what a
    decompression bomb looks like to a reader of headers."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))
