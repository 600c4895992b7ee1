import torch
import torch.nn.functional as F

from transfer.denoise import box_mean, fast_guided_filter, guided_filter


def test_box_mean_is_the_window_mean_with_the_border_replicated():
    x = torch.rand(1, 3, 20, 31, generator=torch.Generator().manual_seed(0))
    for radius in (1, 4, 9):
        padded = F.pad(x, (radius,) * 4, mode="replicate")
        window = F.avg_pool2d(padded, 2 * radius + 1, stride=1)
        assert torch.allclose(box_mean(x, radius), window, atol=1e-6)
    # A corner pixel's window is its own value over the padding plus its neighbours'.
    assert torch.isclose(box_mean(x, 1)[0, 0, 0, 0], F.pad(x, (1,) * 4, mode="replicate")
                         [0, 0, :3, :3].mean())


def test_fast_guided_filter_is_close_to_the_full_one_for_a_wide_window():
    generator = torch.Generator().manual_seed(0)
    guide = F.interpolate(torch.rand(1, 1, 12, 16, generator=generator), size=(96, 128),
                          mode="bilinear")
    src = torch.rand(1, 3, 96, 128, generator=generator)
    full = guided_filter(guide, src, 16, 1e-2)
    fast = fast_guided_filter(guide, src, 16, 1e-2, 4)
    assert (fast - full).abs().mean() < 0.1 * (src - full).abs().mean()
