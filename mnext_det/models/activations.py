"""``InplaceReLU6``: ``nn.ReLU6(inplace=True)`` without the copies autograd adds.

Under autograd, torch 2.14 runs an in-place ``hardtanh_`` (what
``nn.ReLU6(inplace=True)`` calls) as a clone, an out-of-place ``hardtanh``
and a copy back: three passes over the tensor where one does. On a CPU that
was 9 ms of a 200 ms SSDLite-MobileNeXt-0.5 training step (demo config,
batch 8, one thread; ``docs/deploy.md``, "Training"). ``InplaceReLU6`` clamps
in place and back-propagates with ``hardtanh_backward`` on its output, the
derivative torch itself uses for ``hardtanh_``, so outputs and gradients are
bit-identical to ``nn.ReLU6``.
"""
import torch
import torch.nn as nn
from mmengine.registry import MODELS

from .graph_capture import capturing_graph

__all__ = ['InplaceReLU6']


class _ClampInplace(torch.autograd.Function):
    """``x.clamp_(0, 6)`` as one autograd node that saves its output."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        x.clamp_(0., 6.)
        ctx.mark_dirty(x)
        ctx.save_for_backward(x)
        return x

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        out, = ctx.saved_tensors
        return torch.ops.aten.hardtanh_backward(grad, out, 0., 6.)


@MODELS.register_module()
class InplaceReLU6(nn.ReLU6):
    """``nn.ReLU6`` whose in-place path needs one pass over the tensor under
    autograd too (same outputs and gradients; no parameters, so checkpoints
    are unaffected). Falls back to ``nn.ReLU6`` when not in place, outside
    autograd, on views and under graph capture (``torch.compile``, tracing,
    ONNX/TFLite export), so exported graphs hold a plain clip.

    Args:
        inplace: Modify the input in place, as ``nn.ReLU6``. Default: True.
    """

    def __init__(self, inplace: bool = True) -> None:
        super().__init__(inplace=inplace)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if (self.inplace and x.requires_grad and torch.is_grad_enabled() and x._base is None
                and not capturing_graph()):
            return _ClampInplace.apply(x)
        return super().forward(x)
