"""Train with batch norm and its ReLU6 fused into one CPU kernel.

:func:`fuse_batch_norm` turns every ``nn.BatchNorm2d`` of a model into a
:class:`FusedBatchNormAct2d` in place (the same parameters, buffers and
``state_dict`` keys) and, where an ``InplaceReLU6`` follows it (the next
module of an ``nn.Sequential``, the activation of an mmcv ``ConvModule``),
moves the clip into the batch norm and leaves a :class:`ClipInNorm` (an
identity) in the activation's place. In training, on float32 CPU tensors,
the pair then runs as ``mnext_det.ops.batch_norm_act`` (one pass for the
statistics and one for the output, two backward); anything else (eval mode,
another device or dtype, graph capture, the extension not built) runs
torch's batch norm and, for a moved clip, the same in-place clamp as
``InplaceReLU6``, so inference and exports are unchanged.
"""
from typing import Tuple

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import HOOKS
from torch import nn

from ..models.activations import InplaceReLU6
from ..models.graph_capture import capturing_graph
from ..ops import batch_norm_act, extension_status
from .unwrap import unwrap_model

__all__ = ['FusedBatchNormAct2d', 'ClipInNorm', 'fuse_batch_norm', 'FusedBatchNormHook']

_CLIP = InplaceReLU6()


class ClipInNorm(nn.Identity):
    """Where an ``InplaceReLU6`` was: its clip now runs inside the batch norm
    before it (:class:`FusedBatchNormAct2d` with ``relu6=True``)."""


class FusedBatchNormAct2d(nn.BatchNorm2d):
    """``nn.BatchNorm2d``, followed by ReLU6 when ``relu6`` is set, whose
    training forward and backward on float32 CPU tensors is one C++ kernel
    each. Made by :func:`fuse_batch_norm`, never built from a config."""

    relu6: bool = False

    def trains_in_kernel(self) -> bool:
        """Whether this forward call may take the kernel (training with running
        statistics, gradients on, no graph capture); the tensors decide the rest."""
        return (self.training and self.track_running_stats and self.momentum is not None
                and torch.is_grad_enabled() and not capturing_graph())

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if self.trains_in_kernel():
            out = batch_norm_act(input, self.weight, self.bias, self.running_mean,
                                 self.running_var, self.momentum, self.eps, self.relu6)
            if out is not None:
                self.num_batches_tracked.add_(1)
                return out
        out = super().forward(input)
        return _CLIP(out) if self.relu6 else out

    def extra_repr(self) -> str:
        return super().extra_repr() + (', relu6=True' if self.relu6 else '')


def _fold_clip(bn: nn.BatchNorm2d, parent: nn.Module, act_name: str) -> bool:
    act = getattr(parent, act_name, None)
    if type(act) is not InplaceReLU6 or not act.inplace:
        return False
    bn.relu6 = True
    setattr(parent, act_name, ClipInNorm())
    return True


def fuse_batch_norm(model: nn.Module) -> Tuple[int, int]:
    """Make every ``nn.BatchNorm2d`` of ``model`` a
    :class:`FusedBatchNormAct2d` in place and move each following in-place
    ``InplaceReLU6`` into it; return (batch norms, clips moved)."""
    norms = clips = 0
    for parent in list(model.modules()):
        children = list(parent.named_children())
        for i, (name, child) in enumerate(children):
            if type(child) is not nn.BatchNorm2d:
                continue
            child.__class__ = FusedBatchNormAct2d
            norms += 1
            if isinstance(parent, nn.Sequential) and i + 1 < len(children):
                clips += _fold_clip(child, parent, children[i + 1][0])
            elif (getattr(parent, 'norm_name', None) == name
                  and getattr(parent, 'with_activation', False)
                  and tuple(getattr(parent, 'order', ())) == ('conv', 'norm', 'act')):
                clips += _fold_clip(child, parent, 'activate')
    return norms, clips


@HOOKS.register_module()
class FusedBatchNormHook(Hook):
    """Apply :func:`fuse_batch_norm` to the runner's model before the run and
    log what it did and whether the kernel is built.

    Config: ``custom_hooks = [..., dict(type='FusedBatchNormHook')]`` (with
    ``mnext_det.engine`` in ``custom_imports``)."""

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        norms, clips = fuse_batch_norm(unwrap_model(runner.model))
        print_log(f'fused batch norm: {norms} batch norms, {clips} with their ReLU6; kernel '
                  f'{extension_status()}', logger='current')
