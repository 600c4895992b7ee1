"""The loss terms: content, matched-Gram style, histogram and total variation."""
from __future__ import annotations

import torch
import torch.nn.functional as F

# Values ranked at once by the histogram loss: the ranks are int64, so this bounds their
# memory (256 MB) at large sizes, while at 512 px every channel of relu1_1 goes in one
# sort (on a GPU each sort is a launch and a pass over memory).
HIST_VALUES_AT_ONCE = 2**25


def gram(feats: torch.Tensor) -> torch.Tensor:
    """Gram matrix of a (C, H, W) or (1, C, H, W) map, averaged over positions."""
    flat = feats.reshape(feats.shape[-3], -1)
    return flat @ flat.t() / flat.shape[1]


def content_loss(feats: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(feats, target)


class _GramDistance(torch.autograd.Function):
    """mean((F Fᵀ/N - T)²) of a (C, N) map F, with its gradient 4/(C²N) (G - T) F in one
    product: autograd's multiplies once per side of F Fᵀ and adds the two (on a GPU
    the style terms' products and sums were a fifth of a step, bench/step_profile.py)."""

    @staticmethod
    def forward(ctx, flat: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        diff = flat @ flat.t() / flat.shape[1] - target
        ctx.save_for_backward(flat, diff)
        return diff.square().mean()

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        flat, diff = ctx.saved_tensors
        channels, n = flat.shape
        return (diff * (4 * grad / (channels * channels * n))) @ flat, None


def style_loss(feats: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    return _GramDistance.apply(feats.reshape(feats.shape[-3], -1), target_gram)


def histogram_target(feats: torch.Tensor, sorted_target: torch.Tensor,
                     rank_dtype: torch.dtype | None = None) -> torch.Tensor:
    """`feats` with each channel's values replaced by the target's at the same rank.

    `sorted_target` is (C, N) sorted per channel, N the number of positions of `feats`:
    matched painting features have exactly the photo's positions, so ranks line up.
    `rank_dtype` ranks in another dtype: bfloat16 features widened to float32 rank the
    same in bfloat16, and a GPU radix sort of 16-bit keys takes half the passes.
    """
    flat = feats.detach().reshape(feats.shape[-3], -1)
    remapped = torch.empty_like(flat)
    for rows in _bands(flat):
        # Cast a band at a time: at 4096 px a whole relu1_1 copy would be 2 GB.
        keys = flat[rows] if rank_dtype is None else flat[rows].to(rank_dtype)
        if keys.dtype == torch.float32 and keys.device.type == "cpu":
            keys = ordered_bits(keys)
        remapped[rows].scatter_(1, keys.argsort(dim=1), sorted_target[rows])
    return remapped.view_as(feats)


def ordered_bits(values: torch.Tensor) -> torch.Tensor:
    """int32 keys in the order of the float32 `values`: a float's bits read as an integer
    order the non-negative floats, and flipping the magnitude bits of the negative ones
    orders those too. On the CPU integers sort sooner: a 512 px relu1_1 map ranked and
    remapped in 0.94 s where its floats took 1.14 (64 x 172,032 values)."""
    bits = values.view(torch.int32)
    return bits ^ ((bits >> 31) & 0x7FFFFFFF)


def _bands(flat: torch.Tensor) -> list[slice]:
    """Bands of channels of a (C, N) map, each of at most HIST_VALUES_AT_ONCE values (one
    channel at least): a sort also returns int64 indices, twice a float map's bytes."""
    at_once = max(1, HIST_VALUES_AT_ONCE // flat.shape[1])
    return [slice(start, start + at_once) for start in range(0, flat.shape[0], at_once)]


def resample_sorted(feats: torch.Tensor, n: int) -> torch.Tensor:
    """Each channel's sorted values of a (C, H, W) map at `n` evenly spaced ranks: the
    same distribution, sized to pair rank by rank with a map of `n` positions."""
    flat = feats.reshape(feats.shape[-3], -1)
    # In bands: sorted whole, relu1_1 of a 4096 px painting would add 6.8 GB of indices.
    return stretch_sorted(torch.cat([flat[rows].sort(dim=1).values for rows in _bands(flat)]), n)


def stretch_sorted(ranked: torch.Tensor, n: int) -> torch.Tensor:
    """Rows of sorted values (C, N) at `n` evenly spaced ranks, interpolated."""
    if ranked.shape[1] == n:
        return ranked
    return F.interpolate(ranked[None], size=n, mode="linear", align_corners=True)[0]


def histogram_loss(feats: torch.Tensor, sorted_target: torch.Tensor,
                   rank_dtype: torch.dtype | None = None) -> torch.Tensor:
    """Pull each channel's histogram towards the painting's (Risser et al. 2017)."""
    return F.mse_loss(feats, histogram_target(feats, sorted_target, rank_dtype))


def tv_loss(image: torch.Tensor) -> torch.Tensor:
    dy = image[:, :, 1:, :] - image[:, :, :-1, :]
    dx = image[:, :, :, 1:] - image[:, :, :, :-1]
    return dy.pow(2).mean() + dx.pow(2).mean()
