import torch

from core.config import load_config
from core.images import fit_long_side, load_image, to_tensor
from tests.conftest import ART, PHOTOS
from transfer.engine import paint

SIZE = 192


def _border_darkening(grey: torch.Tensor) -> float:
    """Mean of the ring 2..8 px in, minus the mean of the outer 2 px ring."""
    def ring(outer: int, inner: int) -> torch.Tensor:
        mask = torch.zeros_like(grey, dtype=torch.bool)
        mask[..., outer:grey.shape[-2] - outer, outer:grey.shape[-1] - outer] = True
        mask[..., inner:grey.shape[-2] - inner, inner:grey.shape[-1] - inner] = False
        return grey[mask].mean()
    return float(ring(2, 8) - ring(0, 2))


def test_border_is_not_darker_than_in_the_photo(backbone):
    photo = load_image(PHOTOS / "chelsea-cat.jpg")
    painting = load_image(ART / "katsushika-hokusai_the-great-wave-off-kanagawa-1831.jpg")
    cfg = load_config(overrides=[f"transfer.size={SIZE}", 'transfer.schedule="fast"',
                                 "transfer.schedules.fast.iterations=[30, 20, 20]"])["transfer"]
    result = paint(photo, painting, backbone, cfg, torch.device("cpu")).mean(1)
    own = _border_darkening(to_tensor(fit_long_side(photo, SIZE, 16)).mean(1))
    assert _border_darkening(result) < own + 0.01
