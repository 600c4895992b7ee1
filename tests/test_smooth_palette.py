"""The decoded image's palette match moves like colours alike (transfer/smooth_palette.py)."""
import torch

from core.images import load_image, to_pil, to_tensor
from judge.metrics import colour_distance
from transfer.colour import match_palette
from transfer.smooth_palette import smooth_palette_match
from tests.conftest import ART, PHOTOS

BOAT = "kodak-kodim06.jpg"
ROUSSEAU = "henri-rousseau_alleyway-in-the-park-of-saint-cloud-1908.jpg"


def _boat_and_rousseau():
    return (to_tensor(load_image(PHOTOS / BOAT).resize((96, 64))),
            to_tensor(load_image(ART / ROUSSEAU).resize((96, 96))))


def _new_edges(image: torch.Tensor, before: torch.Tensor) -> float:
    """Share of neighbouring pixel pairs whose jump grew by more than 0.08: edges the
    colour match made where the image had none."""
    def jumps(x):
        return torch.cat([(x[..., 1:, :] - x[..., :-1, :]).abs().amax(1).flatten(),
                          (x[..., 1:] - x[..., :-1]).abs().amax(1).flatten()])
    return float(((jumps(image) - jumps(before)) > 0.08).float().mean())


def test_the_sky_is_not_split_into_blotches():
    # Rousseau's bright pixels are a blue sky and an orange path: iterative distribution
    # transfer splits the boat photo's even sky between them, in hard-edged patches.
    photo, painting = _boat_and_rousseau()
    plain = match_palette(photo, painting, None, 10)
    smooth = smooth_palette_match(photo, painting, None, 5, 2)
    assert _new_edges(plain, photo) > 0.02
    assert _new_edges(smooth, photo) < 0.25 * _new_edges(plain, photo)


def test_it_still_brings_the_painting_colour_combinations():
    photo, painting = _boat_and_rousseau()
    distance = lambda x: colour_distance(to_pil(x), to_pil(painting))  # noqa: E731
    assert distance(smooth_palette_match(photo, painting, None, 5, 2)) < (
        0.3 * distance(match_palette(photo, painting)))


def test_pixels_outside_the_mask_stay():
    photo, painting = _boat_and_rousseau()
    inside = torch.arange(photo[0, 0].numel() // 2)
    flat = smooth_palette_match(photo, painting, inside, 5, 2).reshape(3, -1)
    assert torch.equal(flat[:, inside.numel():], photo.reshape(3, -1)[:, inside.numel():])
