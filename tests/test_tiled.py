"""Tiles give the whole image's gradient, so a tiled painting has no seams."""
import pytest
import torch
from PIL import Image

from core import winograd
from core.config import load_config
from core.errors import ConfigError
from core.images import load_image
from transfer.collage import collage_and_matches
from transfer.checks import check_settings, working_pair
from transfer.engine import loss_terms, optimise, pixel_terms
from transfer.targets import compute_targets
from transfer.tiled import tile_boxes, tiled_backward

TILE = 48  # 160 x 112 px in 4 x 3 tiles: every tile border crosses the image


@pytest.fixture(scope="module", params=[16, 0], ids=["reflect-pad", "zero-pad"])
def setup(request, backbone, photo_path, painting_path):
    cfg = load_config()["transfer"] | {"border_pad": request.param, "precision": "float32"}
    photo, painting = working_pair(load_image(photo_path), load_image(painting_path), 160, "cpu")
    start = collage_and_matches(photo, painting, backbone, cfg["collage_layer"], 16)[0]
    return cfg, start, compute_targets(backbone, photo, painting, cfg)


def test_tiles_cover_the_image_once():
    boxes = tile_boxes(112, 160, TILE)
    covered = torch.zeros(112, 160)
    for y0, y1, x0, x1 in boxes:
        assert y1 - y0 <= TILE and x1 - x0 <= TILE and y0 % 8 == 0 and x0 % 8 == 0
        covered[y0:y1, x0:x1] += 1
    assert len(boxes) == 12 and bool((covered == 1).all())


@pytest.fixture
def one_conv_algorithm(monkeypatch):
    """Whole image and tiles through one convolution algorithm: NNPACK's Winograd takes
    the large maps only, and its rounding differs from oneDNN's by up to 1e-3 of the
    gradient, depending on the picture; the tiling itself is exact to 1e-6."""
    monkeypatch.setattr(winograd, "suits", lambda conv, x: False)


def test_tiled_gradient_is_the_whole_images(backbone, setup, one_conv_algorithm):
    cfg, start, targets = setup
    whole = start.clone().requires_grad_(True)
    terms = loss_terms(backbone, whole, targets, cfg)
    sum(terms.values()).backward()
    tiled = start.clone().requires_grad_(True)
    tiled_terms = tiled_backward(backbone, tiled, targets, cfg, TILE,
                                 pixel_terms(tiled, targets, cfg))
    for name, value in terms.items():
        assert tiled_terms[name].item() == pytest.approx(value.item(), rel=1e-4), name
    error = (tiled.grad - whole.grad).norm() / whole.grad.norm()
    assert error < 1e-5


def _seam_ratio(image: torch.Tensor) -> float:
    """Mean jump between columns and rows across tile borders over the mean jump
    elsewhere, as the quality benchmark's grid metric measures a block grid."""
    dx = (image[..., 1:] - image[..., :-1]).abs().mean(dim=(0, 1, 2))
    dy = (image[..., 1:, :] - image[..., :-1, :]).abs().mean(dim=(0, 1, 3))
    seams = torch.cat([dx[TILE - 1::TILE], dy[TILE - 1::TILE]])
    rest = torch.cat([dx, dy])
    return float(seams.mean() / rest.mean())


def test_tiled_painting_has_no_seams(backbone, setup, one_conv_algorithm):
    cfg, start, targets = setup
    whole = optimise(backbone, start, targets, cfg, 5)
    tiled = optimise(backbone, start, targets, cfg, 5, tile=TILE)
    assert (tiled - whole).abs().mean() < 1e-4
    assert abs(_seam_ratio(tiled) - _seam_ratio(whole)) < 0.01


def test_a_mask_above_the_tile_size_is_refused(photo_path, painting_path):
    cfg = load_config(overrides=["transfer.size=2048", "transfer.tile=1024"])["transfer"]
    photo, painting = load_image(photo_path), load_image(painting_path)
    assert check_settings(photo, painting, cfg) > 0
    with pytest.raises(ConfigError, match="transfer.tile"):
        check_settings(photo, painting, cfg, Image.new("L", photo.size, 255))
