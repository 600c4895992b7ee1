import pytest
import torch

from core.config import load_config
from core.images import load_image
from transfer import losses
from transfer.collage import collage_and_matches
from transfer.checks import working_pair
from transfer.engine import loss_terms, optimise
from transfer.targets import compute_targets

TERMS = ("content", "style", "hist", "colour", "tv")


@pytest.fixture(scope="module")
def setup(backbone, photo_path, painting_path):
    cfg = load_config()["transfer"]
    photo, painting = working_pair(load_image(photo_path), load_image(painting_path), 96, "cpu")
    start = collage_and_matches(photo, painting, backbone, cfg["collage_layer"], 16)[0]
    return cfg, start, compute_targets(backbone, photo, painting, cfg)


def _values(backbone, image, targets, cfg):
    with torch.no_grad():
        return {k: v.item() for k, v in loss_terms(backbone, image, targets, cfg).items()}


@pytest.mark.parametrize("term", TERMS)
def test_each_term_falls_when_optimised(backbone, setup, term):
    cfg, start, targets = setup
    alone = dict(cfg, **{f"{t}_weight": (cfg[f"{t}_weight"] if t == term else 0.0) for t in TERMS})
    before = _values(backbone, start, targets, alone)[term]
    after = _values(backbone, optimise(backbone, start, targets, alone, 8), targets, alone)[term]
    assert before > 0
    assert after < 0.9 * before


def test_all_terms_together_fall(backbone, setup):
    cfg, start, targets = setup
    before = _values(backbone, start, targets, cfg)
    seen = []
    optimise(backbone, start, targets, cfg, 10, lambda values, _image: seen.append(values))
    assert seen[-1]["total"] < 0.8 * sum(before.values())
    assert seen[-1]["content"] < before["content"]


def test_histogram_target_has_the_painting_values_in_the_output_order():
    feats = torch.tensor([[[3.0, 1.0, 2.0]]])
    target = torch.tensor([[10.0, 20.0, 30.0]])
    assert losses.histogram_target(feats, target).flatten().tolist() == [30.0, 10.0, 20.0]
    assert losses.histogram_loss(torch.tensor([[[3.0, 1.0, 2.0]]]), target) > 0


def test_histogram_target_ranks_every_channel_on_its_own(monkeypatch):
    """More channels than are ranked at once: each still gets its own target, by rank."""
    monkeypatch.setattr(losses, "HIST_VALUES_AT_ONCE", 3 * 20)  # 3 channels of 20 values
    channels = 3 * 3 + 1
    feats = torch.randn(1, channels, 5, 4, generator=torch.Generator().manual_seed(0))
    target = torch.arange(20.0).repeat(channels, 1) + 100 * torch.arange(channels)[:, None]
    out = losses.histogram_target(feats, target).reshape(channels, -1)
    ranks = feats.reshape(channels, -1).argsort(dim=1).argsort(dim=1)
    assert torch.equal(out, ranks.float() + 100 * torch.arange(channels)[:, None])


def test_gram_is_averaged_over_positions():
    feats = torch.ones(1, 2, 3, 3)
    assert torch.allclose(losses.gram(feats), torch.ones(2, 2))


def test_resample_sorted_keeps_the_distribution_at_another_size():
    feats = torch.tensor([[[5.0, 1.0], [3.0, 2.0]]])  # one channel, values 1, 2, 3, 5
    assert losses.resample_sorted(feats, 4).tolist() == [[1.0, 2.0, 3.0, 5.0]]
    seven = losses.resample_sorted(feats, 7)[0]
    assert seven[0] == 1.0 and seven[-1] == 5.0 and seven[3] == 2.5
    assert bool((seven[1:] >= seven[:-1]).all())


def test_resample_sorted_in_bands_equals_one_sort(monkeypatch):
    feats = torch.randn(1, 7, 6, 5, generator=torch.Generator().manual_seed(1))
    whole = losses.resample_sorted(feats, 12)
    monkeypatch.setattr(losses, "HIST_VALUES_AT_ONCE", 2 * 30)  # two channels a band
    assert torch.equal(losses.resample_sorted(feats, 12), whole)


def test_style_loss_and_its_gradient_equal_autograd_through_the_gram():
    gen = torch.Generator().manual_seed(0)
    feats = torch.rand(6, 1, 50, generator=gen, dtype=torch.float64, requires_grad=True)
    target = losses.gram(torch.rand(6, 1, 50, generator=gen, dtype=torch.float64))
    fused = losses.style_loss(feats, target)
    (fused_grad,) = torch.autograd.grad(fused, feats)
    plain = torch.nn.functional.mse_loss(losses.gram(feats), target)
    (plain_grad,) = torch.autograd.grad(plain, feats)
    assert torch.allclose(fused, plain) and torch.allclose(fused_grad, plain_grad)
    assert torch.autograd.gradcheck(losses.style_loss, (feats, target))


@pytest.mark.parametrize("at_once", [None, 300], ids=["one-band", "a-channel-a-band"])
def test_histogram_ranks_of_bfloat16_values_are_their_float32_ranks(monkeypatch, at_once):
    if at_once:
        monkeypatch.setattr(losses, "HIST_VALUES_AT_ONCE", at_once)
    values = torch.randn(4, 1, 300, generator=torch.Generator().manual_seed(1))
    values = values.to(torch.bfloat16).float()  # as a bfloat16 network's map, widened
    assert values.unique().numel() < values.numel()  # bfloat16 makes ties
    target = torch.arange(4 * 300, dtype=torch.float32).view(4, 300)
    ranked = losses.histogram_target(values, target, torch.bfloat16).reshape(4, 300)
    # Ordered by value (ties by what they were given), every channel reads its targets in
    # order: the bigger value never gets the smaller target.
    by_out = ranked.argsort(dim=1)
    by_value = values.reshape(4, 300).gather(1, by_out).argsort(dim=1, stable=True)
    assert torch.equal(ranked.gather(1, by_out.gather(1, by_value)), target)


def test_ordered_bits_sort_as_their_floats():
    values = torch.cat([torch.randn(5000) * 100, torch.tensor([0.0, -0.0, 1e-30, -1e-30,
                                                               float("inf"), -float("inf")])])
    order = losses.ordered_bits(values).argsort()
    assert torch.equal(values[order], values.sort().values)
