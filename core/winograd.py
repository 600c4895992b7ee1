"""3x3 convolutions on the CPU by NNPACK's Winograd transform, forward and backward.

oneDNN convolves directly; on the 2-core AVX2 machines this project runs on it reaches
the CPU's float32 peak (about 70 GFLOP/s), so the network could only get faster by
doing fewer multiplications. NNPACK's Winograd F(6x6, 3x3), which torch ships but uses
only for batches of 16 or more, does 2-3x fewer: conv3_2 of a 512 px painting takes 64
ms against 202 (`python bench/winograd_speed.py`). Its results agree with oneDNN's to
about 1e-5 of their size. On small maps the transform's tiles are mostly padding and
oneDNN is quicker, so those (and the 3-channel first layer) stay with it.

The backward pass to the input of a stride-1, padding-1 3x3 convolution is the forward
convolution of the output gradient with the kernel flipped and its channels swapped, so
it takes the same route; the network's weights are frozen and need no gradient.
"""
from __future__ import annotations

from functools import lru_cache

import torch
from torch import nn

# Below these, oneDNN was as quick or quicker at every layer of VGG19 (the table in
# bench/winograd_speed.py): a 3-channel input, or a map of fewer positions.
MIN_CHANNELS = 16
MIN_POSITIONS = 600


@lru_cache(maxsize=1)
def available() -> bool:
    """Whether NNPACK runs on this CPU; the call also initialises it, without which its
    every convolution fails."""
    return bool(torch._nnpack_available())


def suits(conv: nn.Conv2d, x: torch.Tensor) -> bool:
    """Whether `conv` of `x` is quicker through NNPACK: a float32 CPU tensor, outside
    autocast (NNPACK has no bfloat16), a 3x3 stride-1 padding-1 convolution of enough
    channels and positions."""
    return (x.device.type == "cpu" and x.dtype == torch.float32
            and not torch.is_autocast_enabled("cpu")
            and conv.kernel_size == (3, 3) and conv.stride == (1, 1)
            and conv.padding == (1, 1) and conv.dilation == (1, 1) and conv.groups == 1
            and conv.in_channels >= MIN_CHANNELS
            and x.shape[-2] * x.shape[-1] >= MIN_POSITIONS and available())


class _Winograd(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                flipped: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(flipped)
        return torch._nnpack_spatial_convolution(x.contiguous(), weight, bias, [1, 1])

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None, None, None]:
        (flipped,) = ctx.saved_tensors
        return (torch._nnpack_spatial_convolution(grad.contiguous(), flipped, None, [1, 1]),
                None, None, None)


def flipped_kernel(weight: torch.Tensor) -> torch.Tensor:
    """The kernel of the backward pass: spatially flipped, input and output swapped."""
    return weight.transpose(0, 1).flip(2, 3).contiguous()


def conv3x3(x: torch.Tensor, conv: nn.Conv2d, flipped: torch.Tensor) -> torch.Tensor:
    """`conv(x)` through NNPACK, `flipped` being `flipped_kernel(conv.weight)`."""
    return _Winograd.apply(x, conv.weight.contiguous(), conv.bias, flipped)
