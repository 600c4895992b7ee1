import subprocess
import sys

import pytest
import torch

from transfer.adam import adam


def test_adam_follows_torch_optim():
    """The written-out step is torch.optim.Adam's: the same path over 50 noisy steps
    (its bias corrections are float32 tensors here, Python floats there)."""
    torch.manual_seed(0)
    target = torch.rand(3, 16, 16)
    ours = torch.rand(3, 16, 16).requires_grad_(True)
    theirs = ours.detach().clone().requires_grad_(True)
    step, reference = adam(ours, 0.02), torch.optim.Adam([theirs], lr=0.02)
    for i in range(50):
        noise = torch.randn_like(target) * 0.1
        for image in (ours, theirs):
            image.grad = None
            ((image - target).square().sum() + (image * noise).sum()).backward()
        step()
        reference.step()
    assert (ours - theirs).abs().max() < 1e-5  # float32 rounding; the steps moved ~0.5
    assert (ours - target).abs().mean() < 0.5 * (torch.rand(3, 16, 16) - target).abs().mean()


@pytest.mark.parametrize("schedule", ["fast", "quick"])  # Adam, and L-BFGS from the swap
def test_painting_does_not_import_torch_dynamo(schedule):
    """torch.optim's step imports torch._dynamo, seconds of every CLI run: painting must not."""
    code = (
        "import sys, torch\n"
        "from core.backbone import load_backbone\n"
        "from core.config import load_config\n"
        "from core.images import load_image\n"
        "from transfer.engine import paint\n"
        f"cfg = load_config(overrides=['transfer.size=96', 'transfer.schedule=\"{schedule}\"',"
        f" 'transfer.schedules.{schedule}.iterations=[2, 1, 1]'])\n"
        "photo = load_image('../shared/data/photos/chelsea-cat.jpg')\n"
        "art = load_image('../shared/data/art/vincent-van-gogh_the-starry-night-1889.jpg')\n"
        "paint(photo, art, load_backbone('vgg19-caffe'), cfg['transfer'], torch.device('cpu'))\n"
        "print('torch._dynamo' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False"
