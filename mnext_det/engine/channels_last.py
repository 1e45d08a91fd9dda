"""Run a model in the channels-last (NHWC) memory format.

On CPU, PyTorch's oneDNN convolutions and batch norms are much faster on NHWC
tensors: on one core of this project's CPU a training step (batch 64) of
MobileNeXt-0.5 on 64x64 crops took 0.17 s instead of 0.26 s in mmengine's
runner, one of SSDLite-MobileNeXt-0.5 at 160 (batch 8) 0.14 s instead of
0.18 s (``tools/analysis_tools/benchmark_detectors.py --memory-format both``).
The results are the same up to float rounding.
"""
from typing import Any, Tuple

import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from torch import nn

from .unwrap import unwrap_model

__all__ = ['ChannelsLastHook', 'to_channels_last']


def _nhwc_input(module: nn.Module, args: Tuple[Any, ...]) -> Tuple[Any, ...]:
    if args and isinstance(args[0], torch.Tensor) and args[0].dim() == 4:
        return (args[0].contiguous(memory_format=torch.channels_last), ) + args[1:]
    return args


def to_channels_last(model: nn.Module) -> nn.Module:
    """Convert ``model``'s 4-d parameters and buffers to channels-last and make
    its ``backbone`` (the model itself when it has none) receive NHWC images."""
    model.to(memory_format=torch.channels_last)
    entry = getattr(model, 'backbone', model)
    if _nhwc_input not in entry._forward_pre_hooks.values():
        entry.register_forward_pre_hook(_nhwc_input)
    return model


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Train, validate and test the runner's model in channels-last format.

    Config: ``custom_hooks = [..., dict(type='ChannelsLastHook')]`` (with
    ``mnext_det.engine`` in ``custom_imports``). Checkpoints stay loadable by
    models in the default format: ``load_state_dict`` copies across formats.
    """

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        to_channels_last(unwrap_model(runner.model))
