"""Depthwise convs on feature maps smaller than their kernel, padded first.

oneDNN's weight gradient of a 3x3 depthwise conv with padding 1 is 10-30x
slower on a 2x2 or 1x1 map than on the same map zero-padded beforehand and
convolved with padding 0 (one thread, batch 64 x 480 channels at 2x2: 1.9 ms
against 0.14 ms; ``docs/deploy.md``, "Training"). Such maps are where a
64-px classifier ends (the demo's crop pretraining) and where the SSDLite
neck and head end at any input size. The padded form sums the same products
in the same layer with the same parameters: outputs equal up to float
rounding, the same ``state_dict``.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from torch import nn

from .class_swap import swap_class
from .unwrap import unwrap_model

__all__ = ['PadFirstDepthwiseConv2d', 'pad_small_depthwise', 'SmallMapDepthwiseHook']


class PadFirstDepthwiseConv2d(nn.Conv2d):
    """``nn.Conv2d`` (depthwise, zero padding) that pads explicitly and runs
    with padding 0 when the input map is smaller than the kernel."""

    def _conv_forward(self, input: torch.Tensor, weight: torch.Tensor,
                      bias: Optional[torch.Tensor]) -> torch.Tensor:
        kh, kw = self.kernel_size
        if input.shape[-2] >= kh and input.shape[-1] >= kw:
            return super()._conv_forward(input, weight, bias)
        ph, pw = self.padding
        return F.conv2d(F.pad(input, (pw, pw, ph, ph)), weight, bias, self.stride, 0,
                        self.dilation, self.groups)


def _eligible(module: nn.Module) -> bool:
    return (type(module) is nn.Conv2d and module.groups > 1
            and module.groups == module.in_channels == module.out_channels
            and module.padding_mode == 'zeros' and not isinstance(module.padding, str)
            and any(module.padding))


def pad_small_depthwise(model: nn.Module) -> int:
    """Turn every padded depthwise ``nn.Conv2d`` of ``model`` into a
    :class:`PadFirstDepthwiseConv2d` in place (same parameters and names);
    return how many."""
    return swap_class(model, _eligible, PadFirstDepthwiseConv2d)


@HOOKS.register_module()
class SmallMapDepthwiseHook(Hook):
    """Apply :func:`pad_small_depthwise` to the runner's model before the run.

    Config: ``custom_hooks = [..., dict(type='SmallMapDepthwiseHook')]`` (with
    ``mnext_det.engine`` in ``custom_imports``)."""

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        pad_small_depthwise(unwrap_model(runner.model))
