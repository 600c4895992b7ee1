"""NNPACK's Winograd convolutions give oneDNN's features and input gradients."""
import pytest
import torch
import torch.nn.functional as F

from core import winograd
from core.images import fit_long_side, load_image, to_tensor
from tests.conftest import PHOTOS

pytestmark = pytest.mark.skipif(not winograd.available(), reason="NNPACK does not run here")


def _photo(size: int) -> torch.Tensor:
    return to_tensor(fit_long_side(load_image(PHOTOS / "chelsea-cat.jpg"), size, 16))


def test_a_layer_and_its_input_gradient_match_onednn(backbone):
    conv = backbone.features[backbone.names.index("conv2_2")]
    x = torch.rand(1, conv.in_channels, 40, 56, requires_grad=True)
    assert winograd.suits(conv, x)
    out = winograd.conv3x3(x, conv, winograd.flipped_kernel(conv.weight))
    upstream = torch.randn_like(out)
    (grad,) = torch.autograd.grad(out, x, upstream)
    ref = F.conv2d(x, conv.weight, conv.bias, padding=1)
    (ref_grad,) = torch.autograd.grad(ref, x, upstream)
    assert (out - ref).abs().max() <= 1e-4 * ref.abs().max()
    assert (grad - ref_grad).norm() <= 1e-4 * ref_grad.norm()


def test_the_network_gives_the_same_features_and_gradient_either_way(backbone, monkeypatch):
    """A painting's pass: relu1_1..relu4_1 of a real photo and the gradient of a loss on
    them reach the image alike through NNPACK and through oneDNN."""
    image = _photo(160)
    layers = ["relu1_1", "relu2_1", "relu3_1", "relu4_1"]

    def run() -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        x = image.clone().requires_grad_(True)
        feats = backbone(x, layers)
        sum(f.square().mean() for f in feats.values()).backward()
        return {k: v.detach() for k, v in feats.items()}, x.grad

    calls = []
    real = winograd.conv3x3
    monkeypatch.setattr(winograd, "conv3x3", lambda *a: calls.append(1) or real(*a))
    fast, fast_grad = run()
    assert len(calls) >= 6  # every conv but the first, whose input has 3 channels
    monkeypatch.setattr(winograd, "MIN_POSITIONS", 10**9)
    calls.clear()
    plain, plain_grad = run()
    assert not calls
    for layer in layers:
        assert (fast[layer] - plain[layer]).abs().max() <= 1e-4 * plain[layer].abs().max()
    assert (fast_grad - plain_grad).norm() <= 2e-3 * plain_grad.norm()


def test_what_nnpack_cannot_or_should_not_take_goes_to_onednn(backbone):
    first = backbone.features[0]
    deep = backbone.features[backbone.names.index("conv4_2")]
    assert not winograd.suits(first, torch.rand(1, 3, 64, 64))
    assert not winograd.suits(deep, torch.rand(1, 512, 8, 8))  # a small map
    assert not winograd.suits(deep, torch.rand(1, 512, 32, 32, dtype=torch.bfloat16))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert not winograd.suits(deep, torch.rand(1, 512, 32, 32))
    assert winograd.suits(deep, torch.rand(1, 512, 32, 32))


def test_a_painting_after_a_query_in_one_process_still_back_propagates():
    """The studio and `artifier transfer` without --style retrieve first, under
    inference mode, then paint with the same network: the kernels NNPACK's backward
    pass keeps must not be inference tensors made by the query."""
    from core.backbone import load_backbone

    fresh = load_backbone("vgg19-caffe")
    with torch.inference_mode():
        fresh(_photo(160), ["relu5_3"])
    x = _photo(160).requires_grad_(True)
    fresh(x, ["relu4_1"])["relu4_1"].square().mean().backward()
    assert x.grad.abs().sum() > 0
