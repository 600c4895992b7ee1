"""The judge of the quality benchmark: real weights, sensible classes, metrics that measure."""
import pytest
import torch
from PIL import Image, ImageFilter

from core.images import fit_long_side, load_image, to_tensor
from judge.metrics import colour_distance, content_distance, grid_score, style_distance
from judge.network import load_judge

CAT_CLASSES = range(281, 286)  # ImageNet: tabby, tiger cat, Persian, Siamese, Egyptian cat


@pytest.fixture(scope="module")
def judge():
    return load_judge()


@pytest.fixture(scope="module")
def photo(photo_path):
    return fit_long_side(load_image(photo_path), 256)


@pytest.fixture(scope="module")
def painting(painting_path):
    return fit_long_side(load_image(painting_path), 256)


def test_judge_sees_a_cat(judge):
    from tests.conftest import PHOTOS

    cat = load_image(PHOTOS / "chelsea-cat.jpg").resize((224, 224))
    assert int(judge.classify(to_tensor(cat)).argmax()) in CAT_CLASSES


def test_metrics_are_zero_for_identical_images_and_grow_with_blur(judge, photo, painting):
    assert content_distance(judge, photo, photo) == pytest.approx(0, abs=1e-6)
    assert style_distance(judge, painting, painting) == pytest.approx(0, abs=1e-6)
    assert colour_distance(painting, painting) == pytest.approx(0, abs=1e-9)
    blurs = [2, 6]
    content = [content_distance(judge, photo.filter(ImageFilter.GaussianBlur(r)), photo)
               for r in blurs]
    style = [style_distance(judge, painting.filter(ImageFilter.GaussianBlur(r)), painting)
             for r in blurs]
    assert 0 < content[0] < content[1]
    assert 0 < style[0] < style[1]
    assert 0 < colour_distance(photo, painting) <= 1


def test_grid_score_finds_hard_pasted_blocks(photo, painting):
    assert grid_score(photo) < 1.3
    pasted = photo.copy()
    rng = torch.Generator().manual_seed(0)
    for y in range(0, photo.height - 15, 16):
        for x in range(0, photo.width - 15, 16):
            sx = int(torch.randint(0, painting.width - 16, (1,), generator=rng))
            sy = int(torch.randint(0, painting.height - 16, (1,), generator=rng))
            pasted.paste(painting.crop((sx, sy, sx + 16, sy + 16)), (x, y))
    assert grid_score(pasted) > 1.5
    shifted = Image.new("RGB", (photo.width + 5, photo.height + 5))
    shifted.paste(pasted, (5, 5))
    assert grid_score(shifted) > 1.5, "any lattice offset counts"
