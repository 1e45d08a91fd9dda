"""Training-mode batch norm with an optional ReLU6, fused in one C++ kernel.

In a CPU training step of the demo detectors, torch's batch norm and ReLU6
take about a third of the time: forward, batch norm reads its input three
times and the activation passes over the output again; backward,
``hardtanh_backward`` writes a masked gradient that batch norm's backward
reads twice. The kernel (``csrc/batch_norm_act.cpp``) reads the input once
for the statistics and once for the output, and backward reads the gradient
and input once for the per-channel sums and once for the input gradient; the
ReLU6 mask is the pre-activation's, recomputed from the input by forward's own
expression (exactly forward's clip, without reading the output). Same
mathematics as ``F.batch_norm(training=True)`` + ``clamp(0, 6)``; the results
differ from torch's by float rounding only (and, where an input of ReLU6 is
within rounding of 0 or 6, in which side of the clip it falls).

The kernel is built by :mod:`mnext_det.ops.extension`.
"""
from typing import Optional, Tuple

import torch
from torch.autograd.function import once_differentiable

from .extension import load_extension

__all__ = ['batch_norm_act', 'norm_applies']


class _BatchNormAct(torch.autograd.Function):

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                running_mean: torch.Tensor, running_var: torch.Tensor, momentum: float,
                eps: float, relu6: bool, channels_last: bool) -> torch.Tensor:
        y, mean, invstd, scale = load_extension().batch_norm_act_forward(
            x, weight, bias, running_mean, running_var, momentum, eps, relu6, channels_last)
        ctx.relu6, ctx.channels_last = relu6, channels_last
        ctx.save_for_backward(x, mean, invstd, scale, weight, bias)
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor) -> Tuple[Optional[torch.Tensor], ...]:
        fmt = torch.channels_last if ctx.channels_last else torch.contiguous_format
        gi, gw, gb = load_extension().batch_norm_act_backward(grad.contiguous(memory_format=fmt),
                                               *ctx.saved_tensors, ctx.relu6, ctx.channels_last)
        return gi, gw, gb, None, None, None, None, None, None


def _layout(x: torch.Tensor) -> Optional[bool]:
    """True for channels-last, False for contiguous NCHW, None for neither."""
    if x.is_contiguous(memory_format=torch.channels_last) and x.stride(1) == 1:
        return True
    return False if x.is_contiguous() else None


def norm_applies(values_per_channel: int, weight: Optional[torch.Tensor],
                 bias: Optional[torch.Tensor], running_mean: Optional[torch.Tensor],
                 running_var: Optional[torch.Tensor]) -> bool:
    """Whether the kernel takes a batch norm with these parameters over an input
    of ``values_per_channel`` values per channel: affine, with running
    statistics, and more than one value per channel."""
    return (values_per_channel > 1 and weight is not None and bias is not None
            and running_mean is not None and running_var is not None)


def batch_norm_act(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                   running_mean: torch.Tensor, running_var: torch.Tensor, momentum: float,
                   eps: float, relu6: bool) -> Optional[torch.Tensor]:
    """``clamp(batch_norm(x, training=True), 0, 6)`` (the clamp with
    ``relu6``) through the kernel, updating the running statistics as torch
    does; ``None`` where the kernel does not apply (not a float32 CPU 4-d
    tensor in NCHW or channels-last layout, a single value per channel, or
    the extension not built), for the caller to run torch's ops."""
    if (x.dim() != 4 or x.device.type != 'cpu' or x.dtype != torch.float32
            or not norm_applies(x.numel() // max(x.size(1), 1), weight, bias, running_mean,
                                running_var)):
        return None
    layout = _layout(x)
    if layout is None or load_extension() is None:
        return None
    return _BatchNormAct.apply(x, weight, bias, running_mean, running_var, momentum, eps,
                               relu6, layout)
