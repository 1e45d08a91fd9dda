"""Train 3x3 depthwise convolutions of channels-last CPU tensors with the C++ kernel.

The kernel is ``mnext_det.ops.depthwise_conv3x3`` (why and how much faster than
oneDNN: ``docs/deploy.md``, "3x3 depthwise convs in C++"). Same parameters, the
same products summed in another order: outputs and gradients differ by float
rounding.

:func:`depthwise_as_kernel` turns each eligible ``nn.Conv2d`` of a model into
a :class:`KernelDepthwiseConv2d` in place (parameters and ``state_dict``
unchanged); it takes the kernel only in training mode, on float32
channels-last CPU tensors, outside graph capture, so evaluation, inference and
exports run torch's conv as before.
"""
from typing import Optional

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import HOOKS
from torch import nn

from ..models.graph_capture import capturing_graph
from ..ops import depthwise_conv3x3, extension_status
from .class_swap import swap_class
from .unwrap import unwrap_model

__all__ = ['KernelDepthwiseConv2d', 'depthwise_as_kernel', 'DepthwiseConvHook']


class KernelDepthwiseConv2d(nn.Conv2d):
    """A 3x3 depthwise ``nn.Conv2d`` (padding 1, stride 1 or 2, no bias) that
    trains on channels-last CPU tensors through ``mnext_det.ops``. Made by
    :func:`depthwise_as_kernel`, never built from a config."""

    def _conv_forward(self, input: torch.Tensor, weight: torch.Tensor,
                      bias: Optional[torch.Tensor]) -> torch.Tensor:
        if self.training and not capturing_graph():  # no bias: depthwise_as_kernel's rule
            out = depthwise_conv3x3(input, weight, self.stride[0])
            if out is not None:
                return out
        return super()._conv_forward(input, weight, bias)


def _eligible(module: nn.Module) -> bool:
    return (type(module) is nn.Conv2d and module.kernel_size == (3, 3)
            and module.groups == module.in_channels == module.out_channels
            and module.stride in ((1, 1), (2, 2)) and module.padding == (1, 1)
            and module.dilation == (1, 1) and module.padding_mode == 'zeros'
            and module.bias is None)


def depthwise_as_kernel(model: nn.Module) -> int:
    """Make every 3x3 depthwise ``nn.Conv2d`` of ``model`` with padding 1,
    stride 1 or 2 and no bias a :class:`KernelDepthwiseConv2d` in place;
    return how many."""
    return swap_class(model, _eligible, KernelDepthwiseConv2d)


@HOOKS.register_module()
class DepthwiseConvHook(Hook):
    """Apply :func:`depthwise_as_kernel` to the runner's model before the run
    and log how many convs it took and whether the kernel is built.

    Config: ``custom_hooks = [..., dict(type='DepthwiseConvHook')]`` (with
    ``mnext_det.engine`` in ``custom_imports``); it pays with channels-last
    tensors (``ChannelsLastHook``)."""

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        n = depthwise_as_kernel(unwrap_model(runner.model))
        print_log(f'3x3 depthwise convs trained by the C++ kernel: {n}; kernel '
                  f'{extension_status()}', logger='current')
