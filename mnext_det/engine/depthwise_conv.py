"""Train 3x3 depthwise convolutions of channels-last CPU tensors with the C++ kernel.

The kernel is ``mnext_det.ops.depthwise_conv3x3`` (why and how much faster than
oneDNN: ``docs/deploy.md``, "3x3 depthwise convs in C++"). Same parameters, the
same products summed in another order: outputs and gradients differ by float
rounding.

:func:`depthwise_as_kernel` turns each eligible ``nn.Conv2d`` of a model into
a :class:`KernelDepthwiseConv2d` in place (parameters and ``state_dict``
unchanged); it takes the kernel only in training mode, on float32
channels-last CPU tensors, outside graph capture, so evaluation, inference and
exports run torch's conv as before. Where such a conv is followed by a
:class:`~mnext_det.engine.FusedBatchNormAct2d` (the next module of an
``nn.Sequential``, the norm of an mmcv ``ConvModule``), the container becomes
a :class:`DepthwiseNormSequential` or a ``DepthwiseNormConvModule``
(``depthwise_norm_conv_module.py``, imported only where mmcv's ``ConvModule``
is met), which trains the pair as ``mnext_det.ops.depthwise_conv3x3_bn_act``: one backward
for both, bitwise the results of the two layers.
"""
from typing import Optional, Tuple

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import HOOKS
from torch import nn

from ..models.graph_capture import capturing_graph
from ..ops import depthwise_conv3x3, depthwise_conv3x3_bn_act, extension_status
from .class_swap import swap_class
from .fused_batch_norm import FusedBatchNormAct2d
from .unwrap import unwrap_model

__all__ = [
    'KernelDepthwiseConv2d', 'DepthwiseNormSequential', 'conv_norm', 'depthwise_as_kernel',
    'DepthwiseConvHook'
]


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


def _pair(conv: nn.Module, norm: nn.Module) -> bool:
    return type(conv) is KernelDepthwiseConv2d and isinstance(norm, FusedBatchNormAct2d)


def conv_norm(conv: KernelDepthwiseConv2d, norm: FusedBatchNormAct2d,
              x: torch.Tensor) -> Optional[torch.Tensor]:
    """``norm(conv(x))`` as one op where both layers would take their kernels,
    else ``None``."""
    if not (conv.training and norm.trains_in_kernel()):
        return None
    out = depthwise_conv3x3_bn_act(x, conv.weight, conv.stride[0], norm.weight, norm.bias,
                                   norm.running_mean, norm.running_var, norm.momentum,
                                   norm.eps, norm.relu6)
    if out is not None:
        norm.num_batches_tracked.add_(1)
    return out


class DepthwiseNormSequential(nn.Sequential):
    """``nn.Sequential`` that trains each :class:`KernelDepthwiseConv2d` and
    the ``FusedBatchNormAct2d`` right after it as one op (their forward hooks
    do not run then). Made by :func:`depthwise_as_kernel`."""

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        layers = list(self)
        i = 0
        while i < len(layers):
            if i + 1 < len(layers) and _pair(layers[i], layers[i + 1]):
                out = conv_norm(layers[i], layers[i + 1], input)
                if out is not None:
                    input, i = out, i + 2
                    continue
            input, i = layers[i](input), i + 1
        return input


def _eligible(module: nn.Module) -> bool:
    return (type(module) is nn.Conv2d and module.kernel_size == (3, 3)
            and module.groups == module.in_channels == module.out_channels
            and module.stride in ((1, 1), (2, 2)) and module.padding == (1, 1)
            and module.dilation == (1, 1) and module.padding_mode == 'zeros'
            and module.bias is None)


def _pairs_in(module: nn.Module) -> int:
    layers = list(module) if type(module) is nn.Sequential else []
    return sum(_pair(a, b) for a, b in zip(layers, layers[1:]))


def _conv_module_with_pair(module: nn.Module) -> bool:
    # mmcv's ConvModule by name: the classification path imports this module without mmcv
    cls = type(module)
    return (cls.__name__ == 'ConvModule' and cls.__module__.startswith('mmcv.')
            and module.with_norm
            and tuple(module.order) == ('conv', 'norm', 'act')
            and not module.with_explicit_padding and _pair(module.conv, module.norm))


def depthwise_as_kernel(model: nn.Module, with_norm: bool = True) -> Tuple[int, int]:
    """Make every 3x3 depthwise ``nn.Conv2d`` of ``model`` with padding 1,
    stride 1 or 2 and no bias a :class:`KernelDepthwiseConv2d` in place and,
    with ``with_norm``, the containers where one is followed by its
    ``FusedBatchNormAct2d`` (made by ``fuse_batch_norm`` before) a
    :class:`DepthwiseNormSequential` or ``DepthwiseNormConvModule``;
    return (convs, convs with their batch norm)."""
    convs = swap_class(model, _eligible, KernelDepthwiseConv2d)
    if not with_norm:
        return convs, 0
    pairs = sum(_pairs_in(m) for m in model.modules())
    swap_class(model, lambda m: _pairs_in(m) > 0, DepthwiseNormSequential)
    if any(_conv_module_with_pair(m) for m in model.modules()):
        from .depthwise_norm_conv_module import DepthwiseNormConvModule
        pairs += swap_class(model, _conv_module_with_pair, DepthwiseNormConvModule)
    return convs, pairs


@HOOKS.register_module()
class DepthwiseConvHook(Hook):
    """Apply :func:`depthwise_as_kernel` to the runner's model before the run
    and log how many convs it took and whether the kernel is built.

    Config: ``custom_hooks = [..., dict(type='DepthwiseConvHook')]`` (with
    ``mnext_det.engine`` in ``custom_imports``); it pays with channels-last
    tensors (``ChannelsLastHook``), and trains each conv with its batch norm as
    one op when ``FusedBatchNormHook`` comes before it in ``custom_hooks``
    (``with_norm=False``: as two ops, to measure what one op saves)."""

    priority = 'VERY_HIGH'

    def __init__(self, with_norm: bool = True) -> None:
        self.with_norm = with_norm

    def before_run(self, runner) -> None:
        convs, pairs = depthwise_as_kernel(unwrap_model(runner.model), self.with_norm)
        print_log(f'3x3 depthwise convs trained by the C++ kernel: {convs}, {pairs} of them '
                  f'with their batch norm as one op; kernel {extension_status()}',
                  logger='current')
