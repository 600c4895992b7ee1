import math

import pytest
import torch

from core.config import load_config
from core.images import fit_blocks, load_image, to_pil, to_tensor
from judge.metrics import content_distance, style_distance
from judge.network import load_judge
from transfer.engine import paint
from transfer.strength import AUTO_RANGE, auto_strength, log_energy_ratio, resolve_strength

SIZE = 128


@pytest.fixture(scope="module")
def painted(backbone, photo_path, painting_path):
    """Judge distances to photo and painting of results at strengths 0, 0.25, 0.5, 1."""
    photo, painting = load_image(photo_path), load_image(painting_path)
    judge = load_judge()
    out = {}
    for strength in (0.0, 0.25, 0.5, 1.0):
        cfg = load_config(overrides=[f"transfer.size={SIZE}", 'transfer.schedule="fast"',
                                     "transfer.schedules.fast.iterations=[20, 10, 10]",
                                     f"transfer.strength={strength}"])["transfer"]
        result = to_pil(paint(photo, painting, backbone, cfg, torch.device("cpu")))
        out[strength] = (content_distance(judge, result, fit_blocks(photo, SIZE, 16)),
                         style_distance(judge, result, painting))
    return out


def test_strength_zero_keeps_the_photo(painted):
    assert painted[0.0][0] < 0.1
    assert painted[0.0][0] < painted[0.5][0] / 4


def test_more_strength_is_closer_to_the_painting(painted):
    style = [painted[s][1] for s in (0.0, 0.25, 0.5, 1.0)]
    assert style == sorted(style, reverse=True), style
    assert style[3] < 0.95 * style[2]


def test_auto_strength_stays_in_bounds_for_flat_colour_and_noise(backbone, photo_path):
    """A painting of one flat colour (bright or dark) has no texture and pure noise has
    nothing else: the automatic strength must stay a usable number for all of them."""
    cfg = load_config()["transfer"]
    photo = to_tensor(fit_blocks(load_image(photo_path), SIZE, 16))
    flat = torch.ones_like(photo) * torch.tensor([0.8, 0.3, 0.2])[None, :, None, None]
    noise = torch.rand(photo.shape, generator=torch.Generator().manual_seed(0))
    strengths = {}
    for name, painting in (("flat", flat), ("dark", flat / 8), ("noise", noise)):
        ratio = log_energy_ratio(backbone, photo, painting, cfg)
        assert math.isfinite(ratio)
        strengths[name] = auto_strength(ratio)
        assert AUTO_RANGE[0] <= strengths[name] <= AUTO_RANGE[1]
    assert strengths["dark"] > strengths["flat"] > strengths["noise"]


def test_auto_strength_is_resolved_per_pair(backbone, photo_path, painting_path):
    cfg = load_config()["transfer"]
    photo = to_tensor(fit_blocks(load_image(photo_path), SIZE, 16))
    painting = to_tensor(fit_blocks(load_image(painting_path), SIZE, 16))
    resolved = resolve_strength(cfg, backbone, photo, painting)
    assert cfg["strength"] == "auto"
    assert resolved["strength"] == auto_strength(log_energy_ratio(backbone, photo, painting, cfg))
    assert resolve_strength(resolved | {"strength": 0.3}, backbone, photo, painting)[
        "strength"] == 0.3
