"""`artifier index build --engine ray`: the same build, its maps made by a pool of Ray actors.

Ray Data takes the pending artworks (file paths or parquet rows, as the catalog keys
them), and `map_batches` hands them to a fixed pool of actors that each load the network
once, decode their batch and run it: GPU actors when the cluster has GPUs, CPU actors
otherwise. The maps come back here and are written, marked done or failed and resumed
exactly as in the local build; FAISS is trained here and filled by shards in parallel
(ray_faiss.py). Ray is an optional extra (`pip install -e '.[cluster]'`), imported only
when this engine runs.
"""
from __future__ import annotations

import logging
import os
import resource
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch

from core.backbone import Backbone
from core.errors import EngineError
from core.session import backbone_from_config
from index_build.build import BuildReport, build_index
from index_build.engine import Engine, Features
from index_build.extract import ArtworkImages, maps_of

INSTALL = "pip install -e '.[cluster]'"


def require_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise EngineError(f"--engine ray needs Ray, an optional extra: {INSTALL}") from None
    return ray


@contextmanager
def ray_session(address: str | None) -> Iterator[Any]:
    """Ray joined at `address`, or started on this machine with its CPUs and GPUs, and shut
    down after; a Ray already initialised in this process (a test, a notebook) is used as is."""
    ray = require_ray()
    if ray.is_initialized():
        yield ray
        return
    try:
        ray.init(address=address, include_dashboard=False, logging_level=logging.ERROR,
                 log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise EngineError(f"cannot reach Ray at {address}: {exc}" if address else
                          f"cannot start Ray on this machine: {exc}") from None
    try:
        yield ray
    finally:
        ray.shutdown()


class ArtworkMaps:
    """An actor of Ray Data's pool: loads the network once, then decodes each batch of
    artworks (`cpus` threads: PIL decodes without the GIL) and runs it in `precision`."""

    def __init__(self, root: Path, cfg: dict[str, Any], cpus: int, precision: str) -> None:
        torch.set_num_threads(cpus)
        self.root, self.cfg, self.icfg, self.precision = root, cfg, cfg["index"], precision
        self.net, self.device = backbone_from_config(cfg)
        self.decoders = ThreadPoolExecutor(cpus)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows = list(zip(batch["id"].tolist(), batch["key"].tolist()))
        images = ArtworkImages(self.root, rows, self.icfg["image_size"],
                               self.cfg["images"]["max_pixels"])
        out = list(maps_of(self.net, self.icfg["layer"],
                           self.decoders.map(images.__getitem__, range(len(images))),
                           self.icfg["batch_size"], self.device, self.precision))
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return {"id": np.array([o[0] for o in out], np.int64),
                "map": np.array([b"" if o[1] is None else o[1].tobytes() for o in out], object),
                "fh": np.array([0 if o[1] is None else o[1].shape[0] for o in out], np.int64),
                "fw": np.array([0 if o[1] is None else o[1].shape[1] for o in out], np.int64),
                "error": np.array([o[2] or "" for o in out], object),
                "width": np.array([-1 if o[3] is None else o[3] for o in out], np.int64),
                "height": np.array([-1 if o[4] is None else o[4] for o in out], np.int64),
                "pid": np.full(len(out), os.getpid(), np.int64),
                "peak_mb": np.full(len(out), peak_mb)}


def _artwork(row: dict[str, Any]) -> tuple:
    """A row of the actors' output as `extract` yields it."""
    fmap = (np.frombuffer(row["map"], np.float16).reshape(int(row["fh"]), int(row["fw"]), -1)
            if row["fh"] else None)
    sizes = [int(row[k]) if row[k] >= 0 else None for k in ("width", "height")]
    return int(row["id"]), fmap, row["error"] or None, *sizes


def _pool(cfg: dict[str, Any], resources: dict[str, float]) -> tuple[int, int, bool]:
    """Actors, CPUs per actor, and whether each takes a GPU: GPU actors decode with
    `index.workers` threads; CPU actors run one torch thread each, one per CPU."""
    gpus = int(resources.get("GPU", 0)) if cfg["backbone"]["device"] != "cpu" else 0
    cpus = max(1, cfg["index"]["workers"]) if gpus else 1
    size = cfg["index"]["ray_workers"] or gpus or max(1, int(resources.get("CPU", 1)) // cpus)
    return size, cpus, gpus > 0


def ray_features(cfg: dict[str, Any], peaks: dict[int, float]) -> Features:
    """The Features of the Ray engine; each actor's peak memory (MB) lands in `peaks`."""

    def features(root: Path, pending: list[tuple[int, str]], precision: str) -> Iterator[tuple]:
        import ray  # ray_session, around every call, has checked it is installed
        from ray.data import ActorPoolStrategy, DataContext

        DataContext.get_current().enable_progress_bars = False  # the build shows its own
        logging.getLogger("ray.data").setLevel(logging.ERROR)
        size, cpus, gpu = _pool(cfg, ray.cluster_resources())
        actor_cfg = cfg if gpu else cfg | {"backbone": cfg["backbone"] | {"device": "cpu"}}
        data = ray.data.from_items([{"id": i, "key": key} for i, key in pending])
        data = data.map_batches(ArtworkMaps,
                                fn_constructor_args=(root, actor_cfg, cpus, precision),
                                batch_size=cfg["index"]["batch_size"],
                                compute=ActorPoolStrategy(size=size), num_cpus=cpus,
                                **({"num_gpus": 1} if gpu else {}))
        for row in data.iter_rows():
            pid = int(row["pid"])
            peaks[pid] = max(peaks.get(pid, 0.0), float(row["peak_mb"]))
            yield _artwork(row)

    return features


def build_on_ray(art_dir: Path, index_dir: Path, cfg: dict[str, Any], backbone: Backbone,
                 address: str | None = None,
                 on_artwork: Callable[[int], None] | None = None) -> BuildReport:
    """`build_index` on Ray: the same catalog, shards, manifest and resume; `backbone` (loaded
    here) names what the index is bound to, the actors load their own."""
    from index_build.ray_faiss import add_by_shards

    peaks: dict[int, float] = {}
    with ray_session(address) as ray:
        # The actors' device, not this one, decides what index.precision "auto" means.
        gpu = _pool(cfg, ray.cluster_resources())[2]
        engine = Engine(ray_features(cfg, peaks), add_by_shards,
                        torch.device("cuda" if gpu else "cpu"))
        report = build_index(art_dir, index_dir, cfg, backbone, torch.device("cpu"), on_artwork,
                             engine)
    report.worker_peak_mb = [peaks[pid] for pid in sorted(peaks)]
    if peaks:
        report.notes.append(f"ray: {len(peaks)} worker{'s' * (len(peaks) != 1)}, peak memory "
                            + ", ".join(f"{mb:,.0f}" for mb in report.worker_peak_mb) + " MB")
    return report
