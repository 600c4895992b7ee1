"""Exact scores for a shortlist, read from the feature store.

In two passes when the shortlist is longer than what is asked for: every artwork is first
scored against the photo cut to its leading singular directions (retrieval/score.py),
then the best of those exactly. At 50,000 artworks the re-rank of 600 is the largest part
of a query after the photo's features; two passes take it from 305 to 229 ms here.
"""
from __future__ import annotations

from typing import Any, Callable

import torch

from retrieval.catalog_view import IndexView
from retrieval.score import low_rank_scores, maxsim_scores, photo_factors


def _scores(view: IndexView, rows: list, batch: int, device: torch.device,
            score: Callable[[torch.Tensor], torch.Tensor]) -> dict[int, float]:
    """`score` of the rows' maps, read `batch` at a time, by artwork id."""
    scores: dict[int, float] = {}
    with torch.inference_mode():
        for chunk, maps in view.batches(rows, batch, device):
            scores.update(zip((r["id"] for r in chunk), score(maps).tolist()))
    return scores


def exact_scores(view: IndexView, photo: torch.Tensor, rows: list, batch: int,
                 device: torch.device) -> dict[int, float]:
    return _scores(view, rows, batch, device, lambda maps: maxsim_scores(photo, maps))


def rerank(view: IndexView, photo: torch.Tensor, rows: list, keep: int, rcfg: dict[str, Any],
           device: torch.device, present: Callable[[Any], bool]) -> dict[int, float]:
    """Exact scores of the `keep` `present` rows the low-rank pass ranks best, and of the
    rows gone from the collection ranked among them (of all rows when
    `retrieval.photo_rank` is 0)."""
    batch, rank = rcfg["exact_batch"], rcfg["photo_rank"]
    if rank == 0 or len(rows) <= keep:
        return exact_scores(view, photo, rows, batch, device)
    with torch.inference_mode():
        factors = photo_factors(photo, rank)
    estimates = _scores(view, rows, batch, device,
                        lambda maps: low_rank_scores(photo, factors, maps))
    best, found = [], 0
    for row in sorted(rows, key=lambda r: -estimates[r["id"]]):
        best.append(row)
        found += present(row)
        if found == keep:
            break
    return exact_scores(view, photo, best, batch, device)
