"""Exact retrieval from maps held in device memory: loaded once, every artwork scored.

On a GPU the whole collection fits (50,000 maps of 14x14x512 in float16 are about 10 GB)
and scoring all of it is cheaper than FAISS plus a re-rank that reads maps from disk; on
the CPU, or when the maps do not fit, FAISS stays (`retrieval.mode`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from core.errors import ConfigError
from core.patches import best_matches, patch_norms
from retrieval.catalog_view import IndexView

MODES = ("auto", "faiss", "exact")
# Of the GPU memory free when the maps load, the share they may take: the photo's
# features and the score's working set need the rest.
FREE_SHARE = 0.8


@dataclass
class ResidentMaps:
    # Per map shape: the artwork ids, their (N, C, H, W) float16 maps on the device (the
    # store's values as they are) and those maps' patch norms.
    groups: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]
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
    by_shape: dict[tuple[int, ...], tuple[list[int], list[torch.Tensor], list[torch.Tensor]]] = {}
    for chunk, maps in view.batches(view.rows(), batch, device):
        ids, parts, norms = by_shape.setdefault(tuple(maps.shape[1:]), ([], [], []))
        ids += [r["id"] for r in chunk]
        held = maps.half()
        parts.append(held)
        norms.append(patch_norms(held))
    groups = [(torch.tensor(ids), torch.cat(parts), torch.cat(norms))
              for ids, parts, norms in by_shape.values()]
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return ResidentMaps(groups, time.perf_counter() - start)


def _scores(maps: ResidentMaps, query: torch.Tensor, batch: int, dtype: torch.dtype,
            wanted: torch.Tensor | None = None) -> torch.Tensor:
    """Scores of every held map, or of the `wanted` (sorted) positions in the groups'
    order, with products in `dtype`; on the CPU."""
    values, offset = [], 0
    for ids, group, norms in maps.groups:
        rows = None if wanted is None else (
            wanted[(wanted >= offset) & (wanted < offset + len(ids))] - offset).to(group.device)
        for i in range(0, len(ids) if rows is None else len(rows), batch):
            picked = slice(i, i + batch) if rows is None else rows[i:i + batch]
            best, _ = best_matches(query, group[picked].to(dtype), norms[picked])
            values.append(best.flatten(1).sum(1).cpu())
        offset += len(ids)
    return torch.cat(values)


def resident_best(maps: ResidentMaps, photo: torch.Tensor, batch: int, count: int,
                  allowed: list[int] | None = None, dtype: torch.dtype | None = None
                  ) -> tuple[list[int], list[float]]:
    """The `count` best artworks (of the `allowed` ids) and their exact scores.

    On CUDA every map is scored with float16 products on the tensor cores, the photo
    scaled to a largest position norm of 1 so no product overflows (a position's norm
    reaches 300: its square does not fit float16); their rounding can swap near ties, so
    the best 4 x `count` are scored again in float32, exactly as `--exact` scores them.
    Elsewhere float32 from the start.
    """
    dtype = dtype or (torch.float16 if photo.device.type == "cuda" else torch.float32)
    photo = photo.float()
    scaled = photo / torch.linalg.vector_norm(photo, dim=0).amax().clamp_min(1e-12)
    ids = torch.cat([group_ids for group_ids, _, _ in maps.groups])
    barred = (torch.zeros(len(ids), dtype=torch.bool) if allowed is None
              else ~torch.isin(ids, torch.tensor(allowed, dtype=ids.dtype)))
    with torch.inference_mode():
        values = _scores(maps, scaled if dtype != torch.float32 else photo, batch,
                         dtype).masked_fill(barred, -torch.inf)
        if dtype != torch.float32:
            shortlist = values.topk(min(4 * count, len(values))).indices.sort().values
            values = torch.full_like(values, -torch.inf)
            values[shortlist] = _scores(maps, photo, batch, torch.float32, shortlist)
            values.masked_fill_(barred, -torch.inf)
        best = values.topk(min(count, len(values)))
    keep = best.values > -torch.inf
    return ids[best.indices[keep]].tolist(), best.values[keep].tolist()
