import pytest
import torch

from artifier.config import load_config
from artifier.images import fit_long_side, load_image, to_pil
from judge.metrics import content_distance, style_distance
from judge.network import load_judge
from transfer.engine import paint

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
        out[strength] = (content_distance(judge, result, fit_long_side(photo, SIZE)),
                         style_distance(judge, result, painting))
    return out


def test_strength_zero_keeps_the_photo(painted):
    assert painted[0.0][0] < 0.1
    assert painted[0.0][0] < painted[0.5][0] / 4


def test_more_strength_is_closer_to_the_painting(painted):
    style = [painted[s][1] for s in (0.0, 0.25, 0.5, 1.0)]
    assert style == sorted(style, reverse=True), style
    assert style[3] < 0.95 * style[2]
