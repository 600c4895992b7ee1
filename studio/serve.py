"""`artifier serve`: load once, then serve the page until interrupted."""
from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Any

from core.errors import ConfigError


def check_address(host: str, port: int) -> None:
    """Fail in one line, before the network loads, when the address cannot be served."""
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        raise ConfigError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None


def serve(cfg: dict[str, Any], index_dir: Path) -> None:
    import uvicorn

    from studio.app import create_app
    from studio.state import open_studio

    s = cfg["studio"]
    check_address(s["host"], s["port"])
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    studio = open_studio(cfg, index_dir, Path(s["results"]))
    print(f"Artifier Studio on http://{s['host']}:{s['port']}/ (index {index_dir}"
          f"{', none found' if studio.no_index else ''}; results in {s['results']})", flush=True)
    uvicorn.run(create_app(studio), host=s["host"], port=s["port"], log_level="warning")
