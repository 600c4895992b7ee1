"""bfloat16 autocast must paint with the same losses as float32, and auto picks by device."""
import pytest
import torch

from core.config import load_config
from core.errors import ConfigError
from core.images import load_image
from transfer.checks import working_pair
from transfer.engine import loss_terms
from core.precision import resolve_precision
from transfer.targets import compute_targets


def test_bfloat16_losses_are_within_a_few_percent_of_float32(backbone, photo_path,
                                                             painting_path):
    cfg = load_config()["transfer"] | {"strength": 0.5}
    photo, painting = working_pair(load_image(photo_path), load_image(painting_path), 96, "cpu")
    targets = compute_targets(backbone, photo, painting, cfg)
    noise = torch.randn(photo.shape, generator=torch.Generator().manual_seed(0))
    start = (photo + 0.1 * noise).clamp(0, 1)
    terms = {}
    for precision in ("float32", "bfloat16"):
        image = start.clone().requires_grad_(True)
        values = loss_terms(backbone, image, targets, cfg | {"precision": precision})
        sum(values.values()).backward()
        terms[precision] = ({k: v.item() for k, v in values.items()}, image.grad)
    (exact, exact_grad), (half, half_grad) = terms["float32"], terms["bfloat16"]
    for name in ("content", "style", "hist"):
        assert half[name] == pytest.approx(exact[name], rel=0.05), name
    cosine = torch.nn.functional.cosine_similarity(exact_grad.flatten(), half_grad.flatten(), 0)
    assert cosine > 0.95


def test_auto_precision_is_bfloat16_where_the_hardware_has_it(monkeypatch):
    from core import precision

    assert resolve_precision("auto", torch.device("cuda")) == "bfloat16"
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: {"avx2": True, "avx512_bf16": False})
    assert resolve_precision("auto", torch.device("cpu")) == "float32"
    for native in ("avx512_bf16", "amx_bf16"):
        monkeypatch.setattr(torch.cpu, "get_capabilities",
                            lambda native=native: {"avx2": True, native: True})
        assert precision.native_bfloat16_cpu()
        assert resolve_precision("auto", torch.device("cpu")) == "bfloat16"
    assert resolve_precision("bfloat16", torch.device("cpu")) == "bfloat16"
    with pytest.raises(ConfigError, match="half"):
        resolve_precision("half", torch.device("cpu"))


def test_tf32_is_allowed_while_painting_only():
    """The switch is process-wide: after a painting (or its failure) it is back as it was,
    so retrieval in the same process scores in float32."""
    from transfer.precision import tf32_allowed

    before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    with tf32_allowed(torch.device("cpu")):
        assert torch.backends.cuda.matmul.allow_tf32 == before[0]
    with pytest.raises(RuntimeError):
        with tf32_allowed(torch.device("cuda")):
            assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
            raise RuntimeError("the painting failed")
    assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) == before
