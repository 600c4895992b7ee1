import json

import numpy as np
import pytest
import torch
from PIL import Image

from core.images import load_image
from tests.cli import artifier
from transfer.collage import collage_and_matches
from transfer.checks import working_pair
from transfer.matching import orient
from transfer.provenance import provenance_map, source_boxes

STRIDE = 16


def _own_boxes(h: int, w: int) -> np.ndarray:
    r, c = np.mgrid[0:h, 0:w]
    return np.stack((c / w, r / h, (c + 1) / w, (r + 1) / h), -1).astype(np.float32)


@pytest.mark.parametrize("which", [0, 1, 6])
def test_boxes_point_back_into_the_painting_as_painted(backbone, painting_path, which):
    """A turned or mirrored copy of a painting, rebuilt from the painting's 8 orientations:
    each block's source box is where that block sits in the painting as painted."""
    _, painting = working_pair(load_image(painting_path), load_image(painting_path), 192, "cpu")
    turned = orient(painting, which)
    _, positions = collage_and_matches(turned, painting, backbone, "relu5_1", STRIDE, 8)
    boxes = source_boxes(positions, painting.shape[2:], STRIDE)
    rows, cols = painting.shape[2] // STRIDE, painting.shape[3] // STRIDE
    own = torch.from_numpy(_own_boxes(rows, cols)).permute(2, 0, 1)
    expected = orient(own, which).permute(1, 2, 0).numpy()
    assert boxes.shape == expected.shape
    inner = np.abs(boxes - expected).max(-1)[1:-1, 1:-1] < 1e-6
    assert inner.mean() > 0.9, f"only {inner.mean():.0%} of blocks point back to their place"


def test_map_tints_result_and_painting_alike_where_pieces_came_from(painting_path):
    painting = load_image(painting_path).resize((192, 128))
    h, w = 128 // STRIDE, 192 // STRIDE
    sheet = np.asarray(provenance_map(painting, painting, _own_boxes(h, w)), dtype=np.float32)
    assert sheet.shape == (128, 192 * 2 + 8, 3)
    left, right = sheet[:, :192], sheet[:, 200:]
    assert np.abs(left - right).mean() < 6  # only the per-block colour steps differ
    flipped = _own_boxes(h, w)[:, ::-1]
    wrong = np.asarray(provenance_map(painting, painting, flipped), dtype=np.float32)[:, :192]
    assert np.abs(wrong - right).mean() > 4 * np.abs(left - right).mean()


def test_cli_writes_the_provenance_map(tmp_path, photo_path, painting_path):
    out, where = tmp_path / "result.png", tmp_path / "map.png"
    result = artifier("transfer", photo_path, "--style", painting_path, "-o", out,
                      "--provenance", where, "--size", "96", "--strength", "1", "--schedule", "fast",
                      "--set", "transfer.schedules.fast.iterations=[2, 1, 1]")
    assert result.returncode == 0, result.stderr
    made, sheet = Image.open(out), Image.open(where)
    painting = Image.open(painting_path)
    panel_width = round(painting.width * made.height / painting.height)
    assert sheet.size == (made.width + 8 + panel_width, made.height)
    assert json.loads(sheet.text["artifier"])["transfer"]["strength"] == 1.0
    panel = np.asarray(sheet, dtype=np.float32)[:, made.width + 8:]
    top_left, bottom_right = panel[:8, :8].mean((0, 1)), panel[-8:, -8:].mean((0, 1))
    assert top_left[2] > top_left[0] + 40 and bottom_right[0] > bottom_right[2] + 40
