import torch

from core.images import load_image, to_pil, to_tensor
from judge.metrics import grid_score
from transfer.detail import resized, smooth, with_detail

PHOTO = "../shared/data/photos/chelsea-cat.jpg"


def test_smooth_has_no_response_at_the_period_of_two():
    checker = (torch.arange(16)[:, None] + torch.arange(16)[None, :]) % 2
    flat = smooth(checker.float().expand(1, 3, 16, 16))
    assert torch.allclose(flat[..., 1:-1, 1:-1], torch.full((1, 3, 14, 14), 0.5))


def test_an_unchanged_coarse_image_comes_back_as_the_start():
    """What the coarse scale could not hold is the start's own: none of it is lost."""
    start = to_tensor(load_image(PHOTO).resize((256, 192)))
    coarse = resized(start, (96, 128)).clamp(0, 1)
    # Equal but where bicubic overshoot past 0 or 1 was clipped.
    assert (with_detail(coarse, start, (192, 256)) - start).abs().mean() < 1e-3
    assert with_detail(start, start, (192, 256)) is start


def test_upsampling_with_the_start_detail_leaves_no_period_two_pattern():
    """A coarse result, changed by its optimisation, brought up 2x: plainly it jumps more
    between some pixel pairs than others (a grid); with the start's detail it does not."""
    start = to_tensor(load_image(PHOTO).resize((512, 384)))
    changed = resized(start, (192, 256)).clamp(0, 1) ** 1.5
    plain = grid_score(to_pil(resized(changed, (384, 512)).clamp(0, 1)))
    kept = grid_score(to_pil(with_detail(changed, start, (384, 512))))
    assert kept < min(plain - 0.1, grid_score(to_pil(start)) + 0.02), (plain, kept)
