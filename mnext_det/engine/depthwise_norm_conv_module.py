"""mmcv's ``ConvModule`` that trains its depthwise conv and batch norm as one op.

Apart from :mod:`.depthwise_conv`, which imports no mmcv (the classification
path runs without it): :func:`~.depthwise_conv.depthwise_as_kernel` imports
this module where it meets a ``ConvModule``.
"""
import torch
from mmcv.cnn import ConvModule

from .depthwise_conv import conv_norm

__all__ = ['DepthwiseNormConvModule']


class DepthwiseNormConvModule(ConvModule):
    """mmcv ``ConvModule`` (conv, norm, act) whose ``KernelDepthwiseConv2d``
    and ``FusedBatchNormAct2d`` train as one op. Made by ``depthwise_as_kernel``."""

    def forward(self, x: torch.Tensor, activate: bool = True,
                norm: bool = True) -> torch.Tensor:
        if norm:
            out = conv_norm(self.conv, self.norm, x)
            if out is not None:
                return self.activate(out) if activate and self.with_activation else out
        return super().forward(x, activate, norm)
