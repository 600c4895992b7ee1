"""Judge metrics of a result against its photo and painting; lower is closer.

content: feature MSE against the photo at blocks 4 and 10, each over the photo
feature's mean square. style: relative Gram distance to the painting at blocks 0, 2, 4
and 7. colour: chi-square distance of 8x8x8 RGB histograms. grid: the worst 16-px
lattice's mean jump over the mean jump elsewhere (about 1.05-1.2 for JPEG photos).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from PIL import Image

from core.images import to_tensor
from judge.network import Judge

CONTENT_BLOCKS = (4, 10)
STYLE_BLOCKS = (0, 2, 4, 7)
GRID = 16


def _resized(img: Image.Image, size: tuple[int, int]) -> torch.Tensor:
    return to_tensor(img.resize(size, Image.Resampling.LANCZOS) if img.size != size else img)


def _long_side(img: Image.Image, long_side: int) -> torch.Tensor:
    scale = long_side / max(img.size)
    return _resized(img, (max(1, round(img.width * scale)), max(1, round(img.height * scale))))


def _gram(feats: torch.Tensor) -> torch.Tensor:
    flat = feats[0].flatten(1)
    return flat @ flat.t() / flat.shape[1]


def content_distance(judge: Judge, result: Image.Image, photo: Image.Image) -> float:
    ours = judge(to_tensor(result), set(CONTENT_BLOCKS))
    theirs = judge(_resized(photo, result.size), set(CONTENT_BLOCKS))
    return sum(float(F.mse_loss(ours[b], theirs[b]) / theirs[b].pow(2).mean())
               for b in CONTENT_BLOCKS) / len(CONTENT_BLOCKS)


def style_distance(judge: Judge, result: Image.Image, painting: Image.Image) -> float:
    ours = judge(to_tensor(result), set(STYLE_BLOCKS))
    theirs = judge(_long_side(painting, max(result.size)), set(STYLE_BLOCKS))
    total = 0.0
    for b in STYLE_BLOCKS:
        target = _gram(theirs[b])
        total += float(torch.linalg.norm(_gram(ours[b]) - target) / torch.linalg.norm(target))
    return total / len(STYLE_BLOCKS)


def colour_distance(result: Image.Image, painting: Image.Image) -> float:
    """Chi-square distance, 0.5 * sum (p - q)^2 / (p + q), of normalised histograms: 0..1."""
    def histogram(img: Image.Image) -> torch.Tensor:
        bins = (to_tensor(img)[0] * 8).long().clamp(0, 7)
        flat = bins[0] * 64 + bins[1] * 8 + bins[2]
        counts = torch.bincount(flat.flatten(), minlength=512).double()
        return counts / counts.sum()

    p, q = histogram(result), histogram(painting)
    total = p + q
    keep = total > 0
    return float(0.5 * ((p - q)[keep] ** 2 / total[keep]).sum())


def grid_score(img: Image.Image) -> float:
    """max over offsets o of mean |jump| across the lines x, y = o + 16k, over the mean
    jump across all other lines."""
    x = to_tensor(img)[0]
    dx = (x[:, :, 1:] - x[:, :, :-1]).abs().mean((0, 1))  # jump into column c+1
    dy = (x[:, 1:, :] - x[:, :-1, :]).abs().mean((0, 2))
    worst = 0.0
    for o in range(GRID):
        on_x = torch.zeros_like(dx, dtype=torch.bool)
        on_x[(torch.arange(len(dx)) + 1) % GRID == o] = True
        on_y = torch.zeros_like(dy, dtype=torch.bool)
        on_y[(torch.arange(len(dy)) + 1) % GRID == o] = True
        on = torch.cat((dx[on_x], dy[on_y])).mean()
        off = torch.cat((dx[~on_x], dy[~on_y])).mean()
        worst = max(worst, float(on / off.clamp_min(1e-12)))
    return worst


def judge_all(judge: Judge, result: Image.Image, photo: Image.Image,
              painting: Image.Image) -> dict[str, float]:
    return {"content": content_distance(judge, result, photo),
            "style": style_distance(judge, result, painting),
            "colour": colour_distance(result, painting),
            "grid": grid_score(result)}
