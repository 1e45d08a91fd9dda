"""3x3 depthwise convolution for training on channels-last CPU tensors, in C++.

oneDNN, which runs torch's CPU depthwise convs, takes 2-3x its forward time
for their backward on the demo detectors' maps, and 0.3-1.3 ms per call for a
weight gradient on a 2x2 or 1x1 map, where the work is a few microseconds
(``docs/deploy.md``, "3x3 depthwise convs in C++"). The kernel
(``csrc/depthwise_conv3x3.cpp``) computes one output row at a time in vectors
of 8 channels with the 9 taps in registers; backward computes the input and
weight gradients of a row together, so each operand is read once. Zero
padding 1, stride 1 or 2, no bias; the same sums as ``F.conv2d``, in another
order, so the results differ from torch's by float rounding.
"""
from typing import Optional, Tuple

import torch
from torch.autograd.function import once_differentiable

from .extension import load_extension

__all__ = ['depthwise_conv3x3', 'kernel_applies']


class _DepthwiseConv3x3(torch.autograd.Function):

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, stride: int) -> torch.Tensor:
        ctx.stride = stride
        ctx.save_for_backward(x, weight)
        return load_extension().depthwise_conv3x3_forward(x, weight, stride)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor) -> Tuple[Optional[torch.Tensor], ...]:
        x, weight = ctx.saved_tensors
        grad_input, grad_weight = load_extension().depthwise_conv3x3_backward(
            grad.contiguous(memory_format=torch.channels_last), x, weight, ctx.stride,
            ctx.needs_input_grad[0], ctx.needs_input_grad[1])
        return grad_input, grad_weight, None


def depthwise_conv3x3(x: torch.Tensor, weight: torch.Tensor,
                      stride: int) -> Optional[torch.Tensor]:
    """``F.conv2d(x, weight, None, stride, padding=1, groups=C)`` for a
    ``[C, 1, 3, 3]`` weight through the kernel; ``None`` where it does not
    apply (not a float32 4-d channels-last CPU tensor with a float32 weight of
    that shape, a stride other than 1 or 2, or the extension not built), for
    the caller to run torch's conv."""
    if not kernel_applies(x, weight, stride):
        return None
    return _DepthwiseConv3x3.apply(x, weight, stride)


def kernel_applies(x: torch.Tensor, weight: torch.Tensor, stride: int) -> bool:
    """Whether :func:`depthwise_conv3x3` runs the kernel for these arguments."""
    return (x.dim() == 4 and x.device.type == 'cpu' and x.dtype == torch.float32
            and stride in (1, 2) and weight.dtype == torch.float32
            and weight.device.type == 'cpu' and weight.shape == (x.size(1), 1, 3, 3)
            and x.numel() > 0 and x.is_contiguous(memory_format=torch.channels_last)
            and load_extension() is not None)
