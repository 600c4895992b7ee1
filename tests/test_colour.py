import torch

from artifier.config import load_config
from artifier.images import fit_long_side, load_image, to_tensor
from transfer.colour import rgb_to_ycc, ycc_to_rgb
from transfer.engine import paint


def test_ycc_round_trip():
    rgb = torch.rand(1, 3, 8, 9, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(ycc_to_rgb(rgb_to_ycc(rgb)), rgb, atol=1e-5)


def test_preserve_colour_keeps_the_photo_chroma(backbone, photo_path, painting_path):
    photo, painting = load_image(photo_path), load_image(painting_path)
    cfg = load_config(overrides=["transfer.size=96", 'transfer.schedule="fast"',
                                 "transfer.schedules.fast.iterations=[3, 2, 2]"])["transfer"]
    painted = paint(photo, painting, backbone, cfg, torch.device("cpu"))
    kept = paint(photo, painting, backbone, cfg | {"preserve_colour": True}, torch.device("cpu"))
    original = to_tensor(fit_long_side(photo, 96, 16))
    chroma = lambda x: rgb_to_ycc(x)[:, 1:]  # noqa: E731
    luma = lambda x: rgb_to_ycc(x)[:, :1]  # noqa: E731
    assert (chroma(kept) - chroma(original)).abs().mean() < 0.01
    assert (chroma(painted) - chroma(original)).abs().mean() > 0.03
    assert (luma(kept) - luma(painted)).abs().mean() < 0.01
    assert (luma(kept) - luma(original)).abs().mean() > 0.03
