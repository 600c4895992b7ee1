import pytest
import torch

from core.config import load_config
from core.errors import ConfigError
from core.images import load_image
from judge.metrics import colour_distance
from transfer.blend import blended_targets, mixed_sorted, piece_shares
from transfer.checks import working_set
from transfer.run import paint_pair
from transfer.targets import compute_targets

SIZE = 128
SECOND = "katsushika-hokusai_the-great-wave-off-kanagawa-1831.jpg"


def _cfg(*overrides: str) -> dict:
    return load_config(overrides=[f"transfer.size={SIZE}", *overrides])["transfer"]


@pytest.fixture(scope="module")
def paintings(painting_path, art_dir):
    return [load_image(painting_path), load_image(art_dir / SECOND)]


def test_piece_shares_count_each_painting():
    positions = torch.zeros(4, 5, 3, dtype=torch.long)
    positions[:1, :, 0] = 1
    assert piece_shares(positions, 3) == [0.75, 0.25, 0.0]


def test_piece_shares_count_only_what_the_mask_paints():
    # Painting 1 gave the left half's pieces, painting 0 the right's; the mask paints
    # the left half, so the kept photo's half gives no share to painting 0.
    positions = torch.zeros(4, 6, 3, dtype=torch.long)
    positions[:, :3, 0] = 1
    mask = torch.zeros(1, 1, 64, 96)
    mask[..., :48] = 1
    assert piece_shares(positions, 2, mask) == [0.0, 1.0]


def test_a_mixture_histogram_takes_each_part_by_its_share():
    low, high = torch.zeros(1, 1000), torch.ones(1, 1000)
    mixed = mixed_sorted([low, high], [0.25, 0.75], 400)
    assert mixed.shape == (1, 400) and (mixed.diff(dim=1) >= 0).all()
    assert abs(float(mixed.mean()) - 0.75) < 0.01


def test_each_painting_of_a_blend_gives_the_pieces_of_its_own_image(backbone, paintings):
    # A painting painted with a blend of itself and another takes its pieces from itself.
    for which, photo in enumerate(paintings):
        painted = paint_pair(photo, paintings, backbone, torch.device("cpu"),
                             _cfg('transfer.schedule="instant"', "transfer.strength=1.0"))
        assert painted.shares[which] > 0.8
        assert (painted.painting_of == which).mean() > 0.8


def test_instant_blend_provenance_names_both_paintings(backbone, photo_path, paintings):
    painted = paint_pair(load_image(photo_path), paintings, backbone, torch.device("cpu"),
                         _cfg('transfer.schedule="instant"', "transfer.strength=1.0"))
    assert set(painted.painting_of.flatten().tolist()) == {0, 1}
    assert abs(sum(painted.shares) - 1) < 1e-6 and min(painted.shares) > 0.05
    assert painted.boxes.shape[:2] == painted.painting_of.shape
    assert (painted.boxes[..., :2] < painted.boxes[..., 2:]).all()


def test_blended_targets_weigh_each_painting_by_its_share(backbone, photo_path, paintings):
    cfg = _cfg()
    photo, both = working_set(load_image(photo_path), paintings, SIZE, torch.device("cpu"))
    with torch.no_grad():
        alone = [compute_targets(backbone, photo, p, cfg) for p in both]
        mixed = blended_targets(backbone, photo, both, [0.3, 0.7], cfg)
    for layer, gram in mixed.grams.items():
        assert torch.allclose(gram, 0.3 * alone[0].grams[layer] + 0.7 * alone[1].grams[layer])
    # The pixel histogram's target lies between the two paintings', nearer the second.
    means = [float(t.sorted_pixels.mean()) for t in (*alone, mixed)]
    assert abs(means[2] - (0.3 * means[0] + 0.7 * means[1])) < 0.01


def test_an_optimised_blend_carries_both_palettes(backbone, photo_path, paintings):
    cfg = _cfg('transfer.schedule="fast"', "transfer.schedules.fast.iterations=[4, 3, 2]")
    photo = load_image(photo_path)
    blend = paint_pair(photo, paintings, backbone, torch.device("cpu"), cfg)
    alone = [paint_pair(photo, p, backbone, torch.device("cpu"), cfg).image for p in paintings]
    assert set(blend.painting_of.flatten().tolist()) == {0, 1}
    # Nearer the second painting's palette than the first painting's result is, and the
    # other way round.
    for which, other in ((0, 1), (1, 0)):
        assert (colour_distance(blend.image, paintings[which])
                < colour_distance(alone[other], paintings[which]))


def test_a_blend_refuses_turned_paintings(backbone, photo_path, paintings):
    with pytest.raises(ConfigError, match="as painted"):
        paint_pair(load_image(photo_path), paintings, backbone, torch.device("cpu"),
                   _cfg("transfer.orientations=8"))

