import pytest
import torch

from core.config import load_config
from core.errors import ConfigError
from transfer.engine import check_finite, schedule_optimiser
from transfer.lbfgs import lbfgs


def _loss(image: torch.Tensor, target: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """An ill-conditioned bowl: the channels' curvatures differ a hundredfold."""
    weights = torch.tensor([1.0, 10.0, 100.0])[:, None, None]
    return (weights * (image - target).square()).sum() + (image * noise).sum()


def test_lbfgs_follows_torch_optim():
    """The written-out step is torch.optim.LBFGS's with one iteration a step and no line
    search: the same path over 30 steps of a changing objective."""
    torch.manual_seed(0)
    target = torch.rand(3, 8, 8)
    ours = torch.rand(3, 8, 8).requires_grad_(True)
    theirs = ours.detach().clone().requires_grad_(True)
    step = lbfgs(ours)
    reference = torch.optim.LBFGS([theirs], lr=1.0, max_iter=1, history_size=20)
    for i in range(30):
        noise = torch.randn_like(target) * 0.01
        for image in (ours, theirs):
            image.grad = None
            _loss(image, target, noise).backward()
        step()
        reference.step(lambda: _loss(theirs, target, noise))
    assert (ours - theirs).abs().max() < 1e-4
    assert (ours - target).abs().max() < 0.01  # and both found the bottom


def test_lbfgs_reaches_the_bottom_where_adam_at_the_same_steps_does_not():
    from transfer.adam import adam

    torch.manual_seed(1)
    target, start = torch.rand(3, 8, 8), torch.rand(3, 8, 8)
    ends = []
    for make in (lbfgs, lambda p: adam(p, 0.02)):
        image = start.clone().requires_grad_(True)
        step = make(image)
        for _ in range(20):
            image.grad = None
            _loss(image, target, torch.zeros_like(target)).backward()
            step()
        ends.append(float((image.detach() - target).abs().mean()))
    assert ends[0] < 1e-3 < 0.05 < ends[1]


def test_the_quick_schedule_moves_the_pixels_by_lbfgs():
    cfg = load_config()["transfer"]
    assert schedule_optimiser(cfg | {"schedule": "quick"}, torch.device("cpu")) == "lbfgs"
    assert schedule_optimiser(cfg | {"schedule": "fast"}, torch.device("cpu")) == "adam"
    with pytest.raises(ConfigError, match="optimiser must be one of adam, lbfgs"):
        load_config(overrides=['transfer.schedules.quick.optimiser="sgd"'])


@pytest.mark.parametrize("optimiser, names_the_rate", [("adam", True), ("lbfgs", False)])
def test_an_overflowing_loss_names_the_learning_rate_only_where_one_is_used(optimiser,
                                                                            names_the_rate):
    with pytest.raises(ConfigError) as raised:
        check_finite({"content": float("inf"), "style": 1.0, "total": float("inf")}, optimiser)
    assert "content_weight" in str(raised.value)
    assert ("learning_rate" in str(raised.value)) == names_the_rate
