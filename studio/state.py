"""What the studio loads once and keeps: the config, the network, the index, the jobs."""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, TypeVar

import torch

from artifier.backbone import Backbone
from artifier.errors import IndexMissingError
from artifier.session import backbone_from_config
from studio.jobs import JobQueue

log = logging.getLogger("artifier.studio")
T = TypeVar("T")


@dataclass
class Studio:
    cfg: dict[str, Any]
    backbone: Backbone
    device: torch.device
    results: Path
    index_dir: Path
    jobs: JobQueue
    # The index is read on one thread of its own: its SQLite catalog and HDF5 feature
    # files may only be used from the thread that opened them.
    index_thread: ThreadPoolExecutor
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
        """`work(view)` on the index thread; its answer, or its exception."""
        return self.index_thread.submit(work, self.view).result()

    def close(self) -> None:
        self.jobs.close()
        if self.view is not None:
            self.index_thread.submit(self.view.close).result()
        self.index_thread.shutdown()


def open_studio(cfg: dict[str, Any], index_dir: Path, results: Path) -> Studio:
    """Load the network and open the index; without an index the studio still paints
    with uploaded paintings."""
    from retrieval.catalog_view import IndexView  # FAISS loads here, once

    backbone, device = backbone_from_config(cfg)
    studio = Studio(cfg, backbone, device, results, index_dir, JobQueue(),
                    ThreadPoolExecutor(1, thread_name_prefix="index"))
    try:
        studio.view = studio.index_thread.submit(IndexView, index_dir, backbone, cfg).result()
        studio.styles, studio.artworks = studio.on_index(lambda view: (view.styles(), view.count()))
    except IndexMissingError as exc:
        studio.no_index = str(exc)
        log.warning("no index, so no matches: %s", exc)
    return studio
