"""Train 1x1 convolutions of channels-last CPU tensors as matrix products.

A stride-1 1x1 conv is a matrix product over the channels. A channels-last
``(N, C, H, W)`` tensor is an ``(N, H, W, C)`` array in memory, so
``F.linear`` of its permuted view runs that product on the array in place
and returns a channels-last result; its backward is two more matrix
products. torch's CPU conv takes another route for these layers (its native
path for 1x1 kernels on one thread below batch 16, oneDNN otherwise), which
is slower forward and backward in the demo networks (one thread, batch 8,
``docs/deploy.md``, "1x1 convs as matrix products"). Same parameters, same
products summed in another order: outputs differ by float rounding.

:func:`pointwise_as_matmul` turns each eligible ``nn.Conv2d`` of a model into
a :class:`MatmulPointwiseConv2d` in place (parameters and ``state_dict``
unchanged); it takes the product only in training mode, on channels-last
CPU tensors, outside graph capture, so evaluation, inference and exports run
torch's conv as before.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import HOOKS
from torch import nn

from ..models.graph_capture import capturing_graph
from .class_swap import swap_class
from .unwrap import unwrap_model

__all__ = ['MatmulPointwiseConv2d', 'pointwise_as_matmul', 'PointwiseMatmulHook']


class MatmulPointwiseConv2d(nn.Conv2d):
    """A stride-1 1x1 ``nn.Conv2d`` that trains on channels-last CPU tensors
    as ``F.linear`` over the channels. Made by :func:`pointwise_as_matmul`,
    never built from a config."""

    def _conv_forward(self, input: torch.Tensor, weight: torch.Tensor,
                      bias: Optional[torch.Tensor]) -> torch.Tensor:
        if (self.training and input.device.type == 'cpu' and input.dim() == 4
                and input.is_contiguous(memory_format=torch.channels_last)
                and not capturing_graph()):
            out = F.linear(input.permute(0, 2, 3, 1), weight.flatten(1), bias)
            return out.permute(0, 3, 1, 2)
        return super()._conv_forward(input, weight, bias)


def _eligible(module: nn.Module) -> bool:
    return (type(module) is nn.Conv2d and module.kernel_size == (1, 1)
            and module.stride == (1, 1) and module.padding == (0, 0)
            and module.dilation == (1, 1) and module.groups == 1)


def pointwise_as_matmul(model: nn.Module) -> int:
    """Make every stride-1, unpadded, ungrouped 1x1 ``nn.Conv2d`` of ``model``
    a :class:`MatmulPointwiseConv2d` in place; return how many."""
    return swap_class(model, _eligible, MatmulPointwiseConv2d)


@HOOKS.register_module()
class PointwiseMatmulHook(Hook):
    """Apply :func:`pointwise_as_matmul` to the runner's model before the run.

    Config: ``custom_hooks = [..., dict(type='PointwiseMatmulHook')]`` (with
    ``mnext_det.engine`` in ``custom_imports``); it pays with channels-last
    tensors (``ChannelsLastHook``)."""

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        n = pointwise_as_matmul(unwrap_model(runner.model))
        print_log(f'1x1 convs trained as matrix products: {n}', logger='current')
