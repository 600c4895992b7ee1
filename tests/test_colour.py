import torch

from core.config import load_config
from core.images import fit_blocks, load_image, to_pil, to_tensor
from judge.metrics import colour_distance
from transfer.colour import KEEP_SPREAD, match_palette, rgb_to_ycc, ycc_to_rgb
from transfer.engine import paint
from transfer.losses import resample_sorted


def test_ycc_round_trip():
    rgb = torch.rand(1, 3, 8, 9, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(ycc_to_rgb(rgb_to_ycc(rgb)), rgb, atol=1e-5)


def test_preserve_colour_keeps_the_photo_chroma(backbone, photo_path, painting_path):
    photo, painting = load_image(photo_path), load_image(painting_path)
    cfg = load_config(overrides=["transfer.size=96", 'transfer.schedule="fast"',
                                 "transfer.schedules.fast.iterations=[3, 2, 2]"])["transfer"]
    # The palette match is skipped when the photo's colours are kept.
    painted = paint(photo, painting, backbone, cfg | {"match_palette": False}, torch.device("cpu"))
    kept = paint(photo, painting, backbone, cfg | {"preserve_colour": True}, torch.device("cpu"))
    original = to_tensor(fit_blocks(photo, 96, 16))
    chroma = lambda x: rgb_to_ycc(x)[:, 1:]  # noqa: E731
    luma = lambda x: rgb_to_ycc(x)[:, :1]  # noqa: E731
    assert (chroma(kept) - chroma(original)).abs().mean() < 0.01
    assert (chroma(painted) - chroma(original)).abs().mean() > 0.03
    assert (luma(kept) - luma(painted)).abs().mean() < 0.01
    assert (luma(kept) - luma(original)).abs().mean() > 0.03


def _pair(photo_path, painting_path, size=64):
    return (to_tensor(fit_blocks(load_image(photo_path), size, 16)),
            to_tensor(fit_blocks(load_image(painting_path), size, 16)))


def test_palette_match_takes_the_painting_distribution_along_its_colour_axes(
        photo_path, painting_path):
    photo, painting = _pair(photo_path, painting_path)
    matched = match_palette(photo, painting)
    pixels = painting.reshape(3, -1)
    axes = torch.linalg.eigh(torch.cov(pixels).double())[1].float()
    along = lambda x: (axes.T @ x.reshape(3, -1)).sort(dim=1).values  # noqa: E731
    want = resample_sorted(along(painting)[:, None], photo[0, 0].numel())
    assert (along(matched) - want).abs().mean() < 0.01 < (along(photo) - want).abs().mean()
    # Rank for rank: the photo's light and dark stay where they were.
    luma = torch.stack([rgb_to_ycc(x)[0, 0].flatten() for x in (photo, matched)])
    assert torch.corrcoef(luma)[0, 1] > 0.9
    assert (colour_distance(to_pil(matched), to_pil(painting))
            < 0.5 * colour_distance(to_pil(photo), to_pil(painting)))


def test_palette_match_keeps_half_the_spread_under_a_flat_painting(photo_path, painting_path):
    photo, _ = _pair(photo_path, painting_path)
    flat = torch.tensor([0.8, 0.3, 0.2]).view(1, 3, 1, 1).expand(1, 3, 40, 60)
    matched = match_palette(photo, flat)
    spread = lambda x: x.reshape(3, -1).std(1)  # noqa: E731
    assert (spread(matched) >= KEEP_SPREAD * spread(photo) - 0.01).all()
    # Still pulled towards the painting's colour: halfway, as the spread allows.
    before = (photo.mean((0, 2, 3)) - flat[0, :, 0, 0]).abs()
    after = (matched.mean((0, 2, 3)) - flat[0, :, 0, 0]).abs()
    assert (after < 0.6 * before + 0.01).all()


def test_palette_match_leaves_pixels_outside_the_mask(photo_path, painting_path):
    photo, painting = _pair(photo_path, painting_path)
    inside = torch.arange(photo[0, 0].numel() // 2)
    matched = match_palette(photo, painting, inside).reshape(3, -1)
    half = inside.numel()
    assert torch.equal(matched[:, half:], photo.reshape(3, -1)[:, half:])
    assert (matched[:, :half] - photo.reshape(3, -1)[:, :half]).abs().mean() > 0.02


def test_rotation_passes_bring_the_painting_colour_combinations(photo_path, painting_path):
    photo, painting = _pair(photo_path, painting_path, size=96)
    once = match_palette(photo, painting)
    joint = match_palette(photo, painting, rotations=10)
    distance = lambda x: colour_distance(to_pil(x), to_pil(painting))  # noqa: E731
    assert distance(joint) < 0.6 * distance(once)
    # The photo's light and dark stay where they were.
    luma = torch.stack([rgb_to_ycc(x)[0, 0].flatten() for x in (once, joint)])
    assert torch.corrcoef(luma)[0, 1] > 0.9


def test_rotation_passes_keep_half_the_spread_under_a_flat_painting(photo_path, painting_path):
    photo, _ = _pair(photo_path, painting_path)
    flat = torch.tensor([0.8, 0.3, 0.2]).view(1, 3, 1, 1).expand(1, 3, 40, 60)
    matched = match_palette(photo, flat, rotations=10)
    spread = lambda x: x.reshape(3, -1).std(1)  # noqa: E731
    assert (spread(matched) >= 0.8 * KEEP_SPREAD * spread(photo)).all()
