"""Exact retrieval from maps held in device memory: loaded once, every artwork scored.

On a GPU the whole collection fits (50,000 maps of 14x14x512 in float16 are about 10 GB)
and scoring all of it is cheaper than FAISS plus a re-rank that reads maps from disk; on
the CPU, or when the maps do not fit, FAISS stays (`retrieval.mode`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from artifier.errors import ConfigError
from retrieval.catalog_view import IndexView
from retrieval.score import maxsim_scores

MODES = ("auto", "faiss", "exact")
# Of the GPU memory free when the maps load, the share they may take: the photo's
# features and the score's working set need the rest.
FREE_SHARE = 0.8


@dataclass
class ResidentMaps:
    # Per map shape: the artwork ids and their (N, C, H, W) float16 maps on the device.
    groups: list[tuple[list[int], torch.Tensor]]
    load_seconds: float


def resident_bytes(view: IndexView) -> int:
    """What the maps of every done artwork take in float16."""
    first = view.db.execute("SELECT shard, row, fh, fw FROM artworks WHERE state='done' "
                            "LIMIT 1").fetchone()
    if first is None:
        return 0
    channels = view.store.read(*first).shape[-1]
    positions = view.db.execute("SELECT SUM(fh * fw) FROM artworks WHERE state='done'").fetchone()[0]
    return positions * channels * 2


def chosen_mode(view: IndexView, rcfg: dict, device: torch.device) -> str:
    """The view's mode, resolved on first use and kept (the maps' size is a query away)."""
    if view.mode is None:
        auto_on_gpu = rcfg["mode"] == "auto" and device.type == "cuda"
        view.mode = resolve_mode(rcfg["mode"], device, resident_bytes(view) if auto_on_gpu else 0,
                                 rcfg["resident_gb"])
    return view.mode


def resolve_mode(mode: str, device: torch.device, needed: int, budget_gb: float) -> str:
    """`faiss` or `exact`: auto is exact on CUDA when the maps fit the budget and the free
    memory, else faiss."""
    if mode not in MODES:
        raise ConfigError(f"retrieval.mode must be one of {', '.join(MODES)}, got {mode!r}")
    if mode != "auto":
        return mode
    if device.type != "cuda":
        return "faiss"
    free, _ = torch.cuda.mem_get_info(device)
    return "exact" if needed <= min(budget_gb * 1e9, FREE_SHARE * free) else "faiss"


def load_resident(view: IndexView, device: torch.device, batch: int) -> ResidentMaps:
    """Every done artwork's map on `device`, read from the store once."""
    start = time.perf_counter()
    by_shape: dict[tuple[int, ...], tuple[list[int], list[torch.Tensor]]] = {}
    for chunk, maps in view.batches(view.rows(), batch, device):
        ids, parts = by_shape.setdefault(tuple(maps.shape[1:]), ([], []))
        ids += [r["id"] for r in chunk]
        parts.append(maps.half())
    groups = [(ids, torch.cat(parts)) for ids, parts in by_shape.values()]
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return ResidentMaps(groups, time.perf_counter() - start)


def resident_scores(maps: ResidentMaps, photo: torch.Tensor, batch: int) -> dict[int, float]:
    """The exact score of every artwork, `batch` maps at a time."""
    scores: dict[int, float] = {}
    with torch.inference_mode():
        for ids, group in maps.groups:
            values = torch.cat([maxsim_scores(photo, group[i:i + batch])
                                for i in range(0, len(ids), batch)])
            scores.update(zip(ids, values.tolist()))
    return scores
