"""What an index build engine is: how feature maps are made and how FAISS is filled.

`build_index` does everything else (catalog, shards, training, manifest, resume,
repairs) the same way whichever engine runs; this module holds the local engine, and
`ray_engine.py` another with the same two functions.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import faiss
import torch

from core.backbone import Backbone
from index_build.extract import ArtworkImages, extract
from index_build.faiss_index import add_artworks
from index_build.store import FeatureStore

# (collection root, [(artwork id, key)], precision) -> (id, map or None, error, width,
# height) each, the network run in that precision (float32 or bfloat16)
Features = Callable[[Path, list[tuple[int, str]], str], Iterable[tuple]]
# (trained index, store, catalog rows, positions per artwork, index folder, generation,
# advance(artworks done)) -> the index with the rows' patches added, ready to save
Fill = Callable[[faiss.Index, FeatureStore, list, int, Path, int, Callable[[int], None]],
                faiss.Index]


@dataclass(frozen=True)
class Engine:
    """The two things a build engine does its own way, and where its network runs (which
    decides what `index.precision = "auto"` means)."""
    features: Features
    fill: Fill
    device: torch.device


def fill_here(index: faiss.Index, store: FeatureStore, rows: list, max_positions: int,
              index_dir: Path, generation: int, advance: Callable[[int], None]) -> faiss.Index:
    """The local Fill: every patch added in this process, the lists held in memory."""
    return add_artworks(index, store, rows, max_positions, lambda: advance(1))


def local_engine(backbone: Backbone, cfg: dict[str, Any], device: torch.device) -> Engine:
    """Maps from this process's network, images decoded in `index.workers` processes."""
    icfg = cfg["index"]

    def features(root: Path, pending: list[tuple[int, str]], precision: str) -> Iterable[tuple]:
        images = ArtworkImages(root, pending, icfg["image_size"], cfg["images"]["max_pixels"])
        return extract(backbone, icfg["layer"], images, icfg["batch_size"], icfg["workers"],
                       device, precision)

    return Engine(features, fill_here, torch.device(device))
