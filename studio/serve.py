"""`artifier serve`: load once, then serve the page until interrupted."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from artifier.errors import ConfigError


def serve(cfg: dict[str, Any], index_dir: Path) -> None:
    import uvicorn

    from studio.app import create_app
    from studio.state import open_studio

    s = cfg["studio"]
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    studio = open_studio(cfg, index_dir, Path(s["results"]))
    print(f"Artifier Studio on http://{s['host']}:{s['port']}/ (index {index_dir}"
          f"{', none found' if studio.no_index else ''}; results in {s['results']})", flush=True)
    try:
        uvicorn.run(create_app(studio), host=s["host"], port=s["port"], log_level="warning")
    except OSError as exc:
        raise ConfigError(f"cannot serve on {s['host']}:{s['port']}: {exc.strerror or exc}") from None
