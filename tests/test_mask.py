import pytest
import torch
from PIL import Image

from core.config import load_config
from core.errors import ConfigError
from core.images import load_image
from transfer.checks import working_pair
from transfer.engine import paint
from transfer.targets import compute_targets

TINY = {"size": 96, "schedule": "fast",
        "schedules": {"fast": {"scales": [0.5, 1.0], "iterations": [4, 2]}}}


def _half_mask(photo: Image.Image) -> Image.Image:
    mask = Image.new("L", photo.size, 0)
    mask.paste(255, (0, 0, photo.width // 2, photo.height))
    return mask


def test_full_mask_changes_nothing_in_the_targets(backbone, photo_path, painting_path):
    cfg = load_config()["transfer"]
    photo, painting = working_pair(load_image(photo_path), load_image(painting_path), 96, "cpu")
    plain = compute_targets(backbone, photo, painting, cfg)
    masked = compute_targets(backbone, photo, painting, cfg, torch.ones_like(photo[:, :1]))
    for layer in plain.grams:
        assert torch.allclose(plain.grams[layer], masked.grams[layer], atol=1e-5)


def test_only_the_masked_part_is_painted(backbone, photo_path, painting_path):
    cfg = load_config()["transfer"] | TINY
    photo_img = load_image(photo_path)
    photo = working_pair(photo_img, load_image(painting_path), 96, "cpu")[0]
    out = paint(photo_img, load_image(painting_path), backbone, cfg, torch.device("cpu"),
                mask=_half_mask(photo_img))
    w = photo.shape[3]
    kept = (out[..., 3 * w // 4:] - photo[..., 3 * w // 4:]).abs().max()
    painted = (out[..., : w // 4] - photo[..., : w // 4]).abs().mean()
    assert kept < 1e-6
    assert painted > 0.03


def test_an_empty_mask_is_refused(backbone, photo_path, painting_path):
    cfg = load_config()["transfer"] | TINY
    photo_img = load_image(photo_path)
    with pytest.raises(ConfigError, match="black everywhere, so it would paint nothing"):
        paint(photo_img, load_image(painting_path), backbone, cfg, torch.device("cpu"),
              mask=Image.new("L", photo_img.size, 0))


def test_a_mask_of_another_shape_is_refused(backbone, photo_path, painting_path):
    cfg = load_config()["transfer"] | TINY
    photo_img = load_image(photo_path)
    square = Image.new("L", (photo_img.height, photo_img.height), 255)
    with pytest.raises(ConfigError, match="make the mask the photo's shape"):
        paint(photo_img, load_image(painting_path), backbone, cfg, torch.device("cpu"),
              mask=square)
    near = Image.new("L", (photo_img.width + 2, photo_img.height), 255)
    assert paint(photo_img, load_image(painting_path), backbone, cfg | {"strength": 0.0},
                 torch.device("cpu"), mask=near).shape[1] == 3
