"""What the studio loads once and keeps: the config, the network, the index, the jobs."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, TypeVar

import torch

from artifier.session import Artifier
from core.backbone import Backbone
from core.errors import IndexMissingError
from studio.index_thread import IndexThread
from studio.jobs import JobQueue
from studio.matcher import Matcher

log = logging.getLogger("artifier.studio")
T = TypeVar("T")


@dataclass
class Studio:
    cfg: dict[str, Any]
    # The Python API's session: the network and the index the studio searches with.
    art: Artifier
    backbone: Backbone
    device: torch.device
    results: Path
    index_dir: Path
    jobs: JobQueue
    index: IndexThread
    matcher: Matcher
    view: Any = None
    # Why there is no index to search (the page says it), or None.
    no_index: Optional[str] = None
    # The index's styles with their artworks, and its artworks: read once, as the index
    # does not change while the studio has it open.
    styles: list[tuple[str, int]] = field(default_factory=list)
    artworks: int = 0

    @property
    def uploads(self) -> Path:
        return self.results / "uploads"

    def on_index(self, work: Callable[[Any], T]) -> T:
        """`work(view)`, a quick lookup, on the index thread (ahead of waiting searches);
        its answer, or its exception."""
        return self.index.submit(lambda: work(self.view)).result()

    def close(self) -> None:
        self.jobs.close()
        if self.view is not None:
            self.index.submit(self.art.close)
        self.index.close()


def open_studio(cfg: dict[str, Any], index_dir: Path, results: Path) -> Studio:
    """Load the network and open the index; without an index the studio still paints
    with uploaded paintings."""
    art = Artifier(index_dir, config=cfg)
    backbone, device = art.network
    index = IndexThread()
    studio = Studio(cfg, art, backbone, device, results, index_dir, JobQueue(), index,
                    Matcher(index, cfg["studio"]["match_queue"], cfg["studio"]["match_cache"]))
    try:
        studio.view = index.submit(art.index_view).result()
        studio.styles, studio.artworks = studio.on_index(lambda view: (view.styles(), view.count()))
    except IndexMissingError as exc:
        studio.no_index = str(exc)
        log.warning("no index, so no matches: %s", exc)
    return studio
