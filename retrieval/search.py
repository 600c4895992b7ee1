"""Retrieval: FAISS shortlist then exact re-rank (default), or the exact score for all."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import torch
from PIL import Image

from core.backbone import Backbone
from core.errors import ConfigError
from core.images import load_image
from core.patch_vectors import artwork_of, patch_vectors
from core.precision import network_precision, resolve_precision
from core.session import backbone_from_config
from index_build.extract import index_input
from index_build.manifest import built_precision
from index_build.sources import located_exists
from retrieval.catalog_view import IndexView
from retrieval.rerank import exact_scores, rerank
from retrieval.resident import chosen_mode, load_resident, resident_best


GONE_SPARES = 64


def artwork_name(artist: str, title: str, locator: str) -> str:
    """How an artwork is named to users: artist and title, or its file name."""
    return ", ".join(part for part in (artist, title) if part) or Path(locator).name


@dataclass
class Match:
    rank: int
    score: float
    artist: str
    title: str
    style: str
    year: str
    # The artwork's locator: its file, or SHARD.parquet#ROW (index_build/sources.py).
    path: str
    id: int

    @property
    def name(self) -> str:
        return artwork_name(self.artist, self.title, self.path)


@dataclass
class Retrieval:
    matches: list[Match]
    photo_patches: int
    timings: dict[str, float] = field(default_factory=dict)
    # Matches skipped because their file left the collection since the last build.
    gone: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"matches": [asdict(m) for m in self.matches], "photo_patches": self.photo_patches,
                "timings_s": self.timings, "gone": self.gone}


def query_precision(setting: str, manifest: dict[str, Any], device: torch.device) -> str:
    """The precision of a photo's network pass. auto: the one the index was built in, so
    the photo's map is made as the artworks' were; float32 where `device` only emulates
    bfloat16, which would take seconds a photo."""
    if setting != "auto":
        return resolve_precision(setting, device)
    native = resolve_precision("auto", device) == "bfloat16"
    return built_precision(manifest) if native else "float32"


def photo_features(photo: Path | Image.Image, backbone: Backbone, view: IndexView,
                   device: torch.device, max_pixels: int) -> torch.Tensor:
    """The photo's float32 map at the size, layer and precision the index was built with:
    (C, h, w). A photo already decoded (the Python API, the studio) is used as it is."""
    size, layer = view.manifest["image_size"], view.manifest["layer"]
    image = photo if isinstance(photo, Image.Image) else load_image(photo, max_pixels, size)
    batch = index_input(image, size, "the photo" if image is photo else photo).unsqueeze(0)
    precision = query_precision(view.precision, view.manifest, device)
    with torch.inference_mode(), network_precision(precision, device):
        return backbone(batch.to(device), [layer])[layer][0].float()


def approximate_scores(ids: np.ndarray, distances: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Artwork ids and approximate scores from each photo patch's k nearest patches.

    A patch's contribution to an artwork is its best hit there; for an artwork it did
    not hit, the patch's k-th similarity stands in: every patch it missed is at most
    that close, so the stand-in is an upper bound and unseen artworks are not punished
    for what the search did not look at.
    """
    sims = 1.0 - distances / 2.0
    valid = ids >= 0
    floor = np.where(valid, sims, np.inf).min(1)
    floor = np.where(np.isfinite(floor), floor, 0.0)
    gain = (sims - floor[:, None]).ravel()
    # One key per (artwork, photo patch); a missing hit (id -1) gets a negative key. FAISS
    # lists a patch's hits best first, so after a stable sort the first hit of each key is
    # the patch's best in that artwork. torch sorts integers by radix, int32 in fewer
    # passes: 144 x 4,096 hits take 18-22 ms here; np.unique took 49 for half as many.
    rows = len(ids)
    key = torch.from_numpy(artwork_of(ids)) * rows + torch.arange(rows)[:, None]
    key = key.ravel()
    if key.numel() and key.max() < 2**31:
        key = key.int()
    ordered = torch.sort(key, stable=True)
    keys, order = ordered.values.numpy(), ordered.indices.numpy()
    first_of_key = np.flatnonzero((np.diff(keys, prepend=-1) != 0) & (keys >= 0))
    keys, first = keys[first_of_key], order[first_of_key]
    art = keys // rows
    starts = np.flatnonzero(np.diff(art, prepend=-1))
    return art[starts].astype(np.int64), floor.sum() + np.add.reduceat(gain[first], starts)


def _ranked(view: IndexView, rows: list, scores: dict[int, float], top: int, n_patches: int,
            timings: dict[str, float]) -> Retrieval:
    """The best `top` of the scored rows, skipping artworks whose file is gone since the
    last build."""
    by_id = {r["id"]: r for r in rows}
    matches: list[Match] = []
    gone = 0
    for i, score in sorted(scores.items(), key=lambda kv: -kv[1]):
        row = by_id[i]
        locator = view.locator(row)
        if not located_exists(locator):
            gone += 1
            continue
        matches.append(Match(len(matches) + 1, round(score, 4), row["artist"], row["title"],
                             row["style"], row["year"], locator, i))
        if len(matches) == top:
            break
    return Retrieval(matches, n_patches, timings, gone)


def search(view: IndexView, photo: torch.Tensor, top: int, exact: bool, cfg: dict[str, Any],
           device: torch.device, style: str | None = None) -> Retrieval:
    """Rank the collection, or its artworks of one `style`, for a photo map; timings per
    stage in seconds."""
    rcfg = cfg["retrieval"]
    timings: dict[str, float] = {}
    n_patches = (photo.shape[1] - 2) * (photo.shape[2] - 2)
    if exact:
        start = time.perf_counter()
        rows = view.rows(style=style)
        scores = exact_scores(view, photo, rows, rcfg["exact_batch"], device)
        timings["exact"] = time.perf_counter() - start
        return _ranked(view, rows, scores, top, n_patches, timings)
    if chosen_mode(view, rcfg, device) == "exact":
        return _resident_search(view, photo, top, rcfg, device, style, n_patches)
    start = time.perf_counter()
    index = view.faiss
    faiss.extract_index_ivf(index).nprobe = rcfg["nprobe"]
    queries = patch_vectors(photo.permute(1, 2, 0).float().cpu().numpy())
    # More hits than the index holds would only ask FAISS for memory it cannot fill.
    distances, ids = index.search(queries, min(rcfg["k"], index.ntotal))
    timings["faiss_search"] = time.perf_counter() - start
    start = time.perf_counter()
    artworks, approx = approximate_scores(ids, distances)
    wanted = max(top, rcfg["shortlist"])
    candidates = view.count(limit=wanted + 1)
    if style is not None:
        allowed = [r["id"] for r in view.rows(style=style)]
        keep = np.isin(artworks, allowed)
        artworks, approx, candidates = artworks[keep], approx[keep], len(allowed)
    # Artworks no hit reached share one upper bound; when the hits cannot fill the
    # shortlist, every candidate is scored, so each one stays rankable.
    rows = (view.rows(style=style) if len(artworks) < wanted or wanted >= candidates
            else view.rows(artworks[np.argsort(-approx)[:wanted]]))
    timings["aggregate"] = time.perf_counter() - start
    start = time.perf_counter()
    scores = rerank(view, photo, rows, top + rcfg["rescore"], rcfg, device,
                    lambda row: located_exists(view.locator(row)))
    timings["rerank"] = time.perf_counter() - start
    return _ranked(view, rows, scores, top, n_patches, timings)


def _resident_search(view: IndexView, photo: torch.Tensor, top: int, rcfg: dict[str, Any],
                     device: torch.device, style: str | None, n_patches: int) -> Retrieval:
    """Every artwork scored from the maps in device memory (loaded on first use)."""
    timings: dict[str, float] = {}
    if view.resident is None:
        view.resident = load_resident(view, device, rcfg["exact_batch"])
        timings["load"] = view.resident.load_seconds
    start = time.perf_counter()
    allowed = None if style is None else [r["id"] for r in view.rows(style=style)]
    # Only the best are looked up, with spares for artworks gone since the build; when
    # more than the spares are gone, four times as many, until the top is full.
    count = top + GONE_SPARES
    while True:
        best, values = resident_best(view.resident, photo, rcfg["resident_batch"], count,
                                     allowed)
        timings["exact"] = time.perf_counter() - start
        result = _ranked(view, view.rows(best), dict(zip(best, values)), top, n_patches,
                         timings)
        if len(result.matches) == top or len(best) < count:
            return result
        count *= 4


def check_top(top: int) -> None:
    """Refused before the network loads or the index opens."""
    if top < 1:
        raise ConfigError("--top must be at least 1")


def query(view: IndexView, backbone: Backbone, device: torch.device,
          photo: Path | Image.Image, top: int, exact: bool, cfg: dict[str, Any],
          style: str | None = None) -> Retrieval:
    """A photo's matches from an open index, with the time of each stage, the photo's
    features first: what `artifier retrieve`, the Python API and the studio ask.
    `top` is checked (`check_top`)."""
    start = time.perf_counter()
    feats = photo_features(photo, backbone, view, device, cfg["images"]["max_pixels"])
    features_s = time.perf_counter() - start
    result = search(view, feats, top, exact, cfg, device, style)
    result.timings = {"features": features_s} | result.timings
    return result


def retrieve(photo: Path, index_dir: Path, top: int, exact: bool, cfg: dict[str, Any]
             ) -> Retrieval:
    """`query` with the network loaded and the index opened for this one photo."""
    check_top(top)
    backbone, device = backbone_from_config(cfg)
    view = IndexView(index_dir, backbone, cfg)
    try:
        return query(view, backbone, device, photo, top, exact, cfg)
    finally:
        view.close()
