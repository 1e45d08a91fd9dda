"""A 3x3 depthwise conv followed by training-mode batch norm (+ ReLU6), with
one backward for both.

Run as two ops, batch norm's backward writes the conv's output gradient and
the conv's backward reads it back: on the wide maps of the sandglass block
that is two passes over memory per layer. Here the forward is the two kernels
of :func:`~mnext_det.ops.depthwise_conv3x3` and
:func:`~mnext_det.ops.batch_norm_act` one after the other, and the backward
(``depthwise_conv3x3_bn_act_backward`` in ``csrc/depthwise_conv3x3.cpp``)
takes batch norm's per-channel sums, then computes the conv's output gradient
a few rows at a time into a buffer the size of the cache, by the same
expression as batch norm's backward, and consumes it there. Every result is
bitwise the one of the two kernels run one after the other.
"""
from typing import Optional, Tuple

import torch
from torch.autograd.function import once_differentiable

from .batch_norm_act import norm_applies
from .depthwise_conv3x3 import kernel_applies
from .extension import load_extension

__all__ = ['depthwise_conv3x3_bn_act']


class _DepthwiseConvBnAct(torch.autograd.Function):

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, stride: int,
                bn_weight: torch.Tensor, bn_bias: torch.Tensor, running_mean: torch.Tensor,
                running_var: torch.Tensor, momentum: float, eps: float,
                relu6: bool) -> torch.Tensor:
        ext = load_extension()
        y = ext.depthwise_conv3x3_forward(x, weight, stride)
        z, mean, invstd, scale = ext.batch_norm_act_forward(
            y, bn_weight, bn_bias, running_mean, running_var, momentum, eps, relu6, True)
        ctx.stride, ctx.relu6 = stride, relu6
        ctx.save_for_backward(x, weight, y, mean, invstd, scale, bn_weight, bn_bias)
        return z

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor) -> Tuple[Optional[torch.Tensor], ...]:
        x, weight, y, mean, invstd, scale, bn_weight, bn_bias = ctx.saved_tensors
        gx, gw, gbw, gbb = load_extension().depthwise_conv3x3_bn_act_backward(
            grad.contiguous(memory_format=torch.channels_last), x, weight, y, mean, invstd,
            scale, bn_weight, bn_bias, ctx.stride, ctx.relu6, ctx.needs_input_grad[0],
            ctx.needs_input_grad[1])
        return gx, gw, None, gbw, gbb, None, None, None, None, None


def depthwise_conv3x3_bn_act(x: torch.Tensor, weight: torch.Tensor, stride: int,
                             bn_weight: torch.Tensor, bn_bias: torch.Tensor,
                             running_mean: torch.Tensor, running_var: torch.Tensor,
                             momentum: float, eps: float,
                             relu6: bool) -> Optional[torch.Tensor]:
    """``batch_norm_act(depthwise_conv3x3(x, weight, stride), ...)`` with one
    backward for both, updating the running statistics as torch does;
    ``None`` where the kernels do not apply (as
    :func:`~mnext_det.ops.depthwise_conv3x3` declines, batch norm without
    affine parameters or running statistics, or a single output value per
    channel), for the caller to run the two layers."""
    if not kernel_applies(x, weight, stride):
        return None
    n, _, h, w = x.shape
    if not norm_applies(n * ((h - 1) // stride + 1) * ((w - 1) // stride + 1), bn_weight,
                        bn_bias, running_mean, running_var):
        return None
    return _DepthwiseConvBnAct.apply(x, weight, stride, bn_weight, bn_bias, running_mean,
                                     running_var, momentum, eps, relu6)
