import numpy as np
import pytest
import torch

from core.images import fit_long_side, load_image, to_tensor
from transfer.collage import blend_window, collage_and_matches, oriented, paste_blocks
from transfer.checks import working_pair
from transfer.matching import carry_down, gather, match_positions, orient

STRIDE = 16


def _border_ratio(img: torch.Tensor) -> float:
    """Mean jump across block borders over the mean jump inside blocks (1 = no grid)."""
    grey = img[0].mean(0)
    dx = (grey[:, 1:] - grey[:, :-1]).abs().mean(0)
    dy = (grey[1:, :] - grey[:-1, :]).abs().mean(1)
    jumps = torch.cat((dx, dy))
    cols = torch.cat((torch.arange(1, grey.shape[1]), torch.arange(1, grey.shape[0])))
    border = cols % STRIDE == 0
    return (jumps[border].mean() / jumps[~border].mean()).item()


def test_window_is_a_partition_of_unity():
    w = blend_window(2 * STRIDE)
    total = w[:STRIDE, :STRIDE] + w[STRIDE:, :STRIDE] + w[:STRIDE, STRIDE:] + w[STRIDE:, STRIDE:]
    assert torch.allclose(total, torch.ones(STRIDE, STRIDE), atol=1e-6)


def test_identity_match_reproduces_the_painting():
    painting = torch.rand(1, 3, 64, 96)
    rows, cols = torch.meshgrid(torch.arange(4), torch.arange(6), indexing="ij")
    out = paste_blocks([painting], torch.stack((torch.zeros_like(rows), rows, cols), -1), STRIDE)
    assert torch.allclose(out, painting, atol=1e-5)


def _corr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(np.corrcoef(a.flatten().numpy(), b.flatten().numpy())[0, 1])


def test_collage_rebuilds_the_photo_layout_from_shuffled_pieces(backbone, photo_path):
    """A 'painting' made of the photo's own tiles, shuffled, must be put back in place."""
    photo, _ = working_pair(load_image(photo_path), load_image(photo_path), 256, "cpu")
    tile = 64
    rows, cols = photo.shape[2] // tile, photo.shape[3] // tile
    photo = photo[:, :, :rows * tile, :cols * tile]
    tiles = photo.unfold(2, tile, tile).unfold(3, tile, tile).reshape(1, 3, rows * cols, tile, tile)
    order = torch.randperm(rows * cols, generator=torch.Generator().manual_seed(0))
    shuffled = (tiles[:, :, order].reshape(1, 3, rows, cols, tile, tile)
                .permute(0, 1, 2, 4, 3, 5).reshape_as(photo))
    collage = collage_and_matches(photo, shuffled, backbone, "relu5_1", STRIDE)[0]
    assert collage.shape == photo.shape
    assert _corr(collage, photo) > 0.65
    assert _corr(collage, photo) > _corr(shuffled, photo) + 0.3


def test_collage_has_no_block_grid(backbone, photo_path, painting_path):
    # The pictures as the measure was calibrated on (rounded to the block, not cropped):
    # this is about the collage, not about how a painting's working size is cut.
    photo, painting = (to_tensor(fit_long_side(load_image(path), 256, STRIDE))
                       for path in (photo_path, painting_path))
    collage = collage_and_matches(photo, painting, backbone, "relu5_1", STRIDE)[0]
    assert _border_ratio(collage) < 1.3
    with torch.no_grad():
        positions = match_positions(backbone(photo, ["relu5_1"])["relu5_1"][0],
                                    [backbone(painting, ["relu5_1"])["relu5_1"][0]])
    blocks = painting.unfold(2, STRIDE, STRIDE).unfold(3, STRIDE, STRIDE)
    picked = blocks[0, :, positions[..., 1], positions[..., 2]]
    hard_paste = picked.permute(0, 1, 3, 2, 4).reshape_as(photo)
    assert _border_ratio(hard_paste) > 2.0, "the measure must see the grid of a hard paste"


def test_carry_down_maps_each_position_to_its_block():
    positions = torch.tensor([[[0, 0, 1], [1, 2, 0]]])
    fine = carry_down(positions, 2)
    assert fine.shape == (2, 4, 3)
    assert fine[:, :2].reshape(-1, 3).tolist() == [[0, 0, 2], [0, 0, 3], [0, 1, 2], [0, 1, 3]]
    assert fine[:, 2:].reshape(-1, 3).tolist() == [[1, 4, 0], [1, 4, 1], [1, 5, 0], [1, 5, 1]]
    first = torch.arange(6 * 4).float().view(1, 6, 4)
    second = 100 + torch.arange(6 * 4).float().view(1, 6, 4)
    assert gather([first, second], fine)[0, 0].tolist() == [2, 3, 116, 117]


@pytest.mark.parametrize("which", [1, 2, 5, 7])
def test_matching_finds_the_orientation_of_a_turned_copy(backbone, painting_path, which):
    """A painting turned or mirrored, matched against the painting's 8 orientations, is
    rebuilt from the pieces of that orientation, and the collage recovers it."""
    _, painting = working_pair(load_image(painting_path), load_image(painting_path), 192, "cpu")
    turned = orient(painting, which)
    with torch.no_grad():
        maps = [backbone(p, ["relu5_1"])["relu5_1"][0] for p in oriented(painting, 8)]
        positions = match_positions(backbone(turned, ["relu5_1"])["relu5_1"][0], maps)
    inner = positions[1:-1, 1:-1, 0]  # border patches are zero-padded, so partial
    share = (inner == which).float().mean().item()
    assert share > 0.9, f"orientation {which} found for only {share:.0%} of positions"
    as_painted = collage_and_matches(turned, painting, backbone, "relu5_1", STRIDE, 1)[0]
    all_turns = collage_and_matches(turned, painting, backbone, "relu5_1", STRIDE, 8)[0]
    assert _corr(all_turns, turned) > 0.8
    assert _corr(all_turns, turned) > _corr(as_painted, turned) + 0.1
