"""mmdet's MobileNetV2 with SSDLite's original tap: the expansion of a
layer's first block, before its depthwise conv.

Sandler et al. (MobileNetV2, Sec. 6.2) attach SSDLite's first level "to the
expansion of layer 15" (576 ch at stride 16, width 1.0), the place where
the MobileNeXt authors tap their network (before layer 13's stride-2
depthwise conv, also 576 ch); mmdet's SSDLite-MobileNetV2 reads layer 5's
96-ch output instead. Imports mmdet: registered by ``mnext_det.detection``,
not by ``import mnext_det``.
"""
from typing import Sequence, Tuple

import torch
from mmdet.models.backbones import MobileNetV2
from mmdet.registry import MODELS

__all__ = ['TappedMobileNetV2']


@MODELS.register_module()
class TappedMobileNetV2(MobileNetV2):
    """mmdet's ``MobileNetV2`` (same arguments, parameters and checkpoints)
    that also returns, for each of ``tap_indices``, the output of that
    layer's first expansion conv (1x1 + BN + ReLU6), before its depthwise
    conv.

    Args:
        tap_indices: Layers (mmdet's numbering: 0-6 are ``layer1``-``layer7``)
            whose first block's expansion is returned; ``(5, )`` is Sandler
            et al.'s SSDLite tap (576 ch at stride 16 at width 1.0). Layer 0
            has no expansion. Outputs are ordered by layer, a tap before its
            layer's output. Default: ``(5, )``.
        *args, **kwargs: ``MobileNetV2``'s (``widen_factor``,
            ``out_indices``, ``frozen_stages``, ``norm_cfg``, ...). With
            ``with_cp`` the tapped blocks run without checkpointing.
    """

    def __init__(self, *args, tap_indices: Sequence[int] = (5, ), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.tap_indices = tuple(tap_indices)
        for i in self.tap_indices:
            if not isinstance(i, int) or not 1 <= i < len(self.arch_settings):
                raise ValueError(
                    f'tap_indices: {i!r} is not a layer with an expansion conv '
                    f'(1-{len(self.arch_settings) - 1}; layer 0 expands by 1)')

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        x = self.conv1(x)
        outs = []
        last = max(tuple(self.out_indices) + self.tap_indices)
        for i, layer_name in enumerate(self.layers[:last + 1]):
            layer = getattr(self, layer_name)
            if i in self.tap_indices:
                # mmdet's InvertedResidual unrolled to reach its expansion; a
                # layer's first block changes the channels, so it has no shortcut
                first = layer[0]
                tap = first.expand_conv(x)
                outs.append(tap)
                x = layer[1:](first.linear_conv(first.depthwise_conv(tap)))
            else:
                x = layer(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
