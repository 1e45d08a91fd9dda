"""SSDLite neck: mmdet's ``SSDNeck`` plus the MobileNeXt authors' options.

Two additions over ``SSDNeck``:

* an extra *feed* input: given one input more than ``in_channels``, the last
  one only feeds the extra layers and is not passed to the head. The authors'
  SSDLite taps MobileNeXt inside layers 13 and 20 (before their last depthwise
  conv) for the head and starts the extra layers from the complete layer-20
  output; ``MobileNeXt(tap_indices=(13, 20), out_indices=(20,))`` returns
  exactly these three tensors (the feed input has ``in_channels[-1]``
  channels, as layer 20's tap and output do);
* ``extra_type='sandglass'``: the authors' extra layers, each
  dw3x3(stride)+BN+ReLU6 -> pw to ``int(in * ratio)`` + BN ->
  pw + BN + ReLU6, with ratios (0.2, 0.25, 0.5, 0.5) by default.

With as many inputs as ``in_channels`` and ``extra_type='ssd'`` it is
``SSDNeck`` unchanged.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmdet.models.necks import SSDNeck
from mmdet.registry import MODELS

__all__ = ['SSDLiteNeck', 'SandglassExtraLayer']


class SandglassExtraLayer(nn.Sequential):
    """One extra layer of the authors' SSDLite (reference doc section 3).

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        ratio: Bottleneck width as a fraction of ``in_channels``.
        stride: Stride of the depthwise conv. Default: 2.
        padding: Padding of the depthwise conv. Default: 1.
        norm_cfg: Norm config. Default: BN.
        act_cfg: Activation config. Default: ReLU6.
    """

    def __init__(self, in_channels: int, out_channels: int, ratio: float, stride: int = 2,
                 padding: int = 1, norm_cfg: Optional[Dict] = None,
                 act_cfg: Optional[Dict] = None) -> None:
        if not 0 < ratio <= 1:
            raise ValueError(f'sandglass ratio must be in (0, 1], got {ratio}')
        norm_cfg = norm_cfg or dict(type='BN')
        act_cfg = act_cfg or dict(type='ReLU6')
        hidden = max(1, int(in_channels * ratio))
        super().__init__(
            ConvModule(in_channels, in_channels, 3, stride=stride, padding=padding,
                       groups=in_channels, norm_cfg=norm_cfg, act_cfg=act_cfg),
            ConvModule(in_channels, hidden, 1, norm_cfg=norm_cfg, act_cfg=None),
            ConvModule(hidden, out_channels, 1, norm_cfg=norm_cfg, act_cfg=act_cfg))


@MODELS.register_module()
class SSDLiteNeck(SSDNeck):
    """``SSDNeck`` with an optional feed input and the authors' extra layers.

    Args:
        in_channels: Channels of the inputs passed to the head (the feed
            input, if any, is not listed).
        out_channels: Channels of every output level; starts with
            ``in_channels``.
        level_strides: Stride of each extra layer.
        level_paddings: Padding of each extra layer.
        extra_type: ``'ssd'`` (mmdet's 1x1 + 3x3 extras) or ``'sandglass'``
            (the authors'). Default: ``'ssd'``.
        sandglass_ratios: Bottleneck ratio of each sandglass extra layer.
            Default: (0.2, 0.25, 0.5, 0.5).
        **kwargs: The other ``SSDNeck`` arguments (``l2_norm_scale``,
            ``use_depthwise``, ``norm_cfg``, ``act_cfg``, ``init_cfg``, ...).
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 out_channels: Sequence[int],
                 level_strides: Sequence[int],
                 level_paddings: Sequence[int],
                 extra_type: str = 'ssd',
                 sandglass_ratios: Sequence[float] = (0.2, 0.25, 0.5, 0.5),
                 **kwargs) -> None:
        if extra_type not in ('ssd', 'sandglass'):
            raise ValueError(f"extra_type must be 'ssd' or 'sandglass', got {extra_type!r}")
        in_channels, out_channels = tuple(in_channels), tuple(out_channels)
        if tuple(out_channels[:len(in_channels)]) != in_channels:
            raise ValueError(f'out_channels {out_channels} must start with in_channels '
                             f'{in_channels}')
        if len(out_channels) - len(in_channels) != len(level_strides):
            raise ValueError(f'{len(level_strides)} level_strides for '
                             f'{len(out_channels) - len(in_channels)} extra levels')
        super().__init__(in_channels, out_channels, level_strides, level_paddings, **kwargs)
        self.in_channels, self.out_channels = in_channels, out_channels
        extra_in = out_channels[len(in_channels) - 1:-1]
        extra_out = out_channels[len(in_channels):]
        if extra_type == 'sandglass':
            if len(sandglass_ratios) != len(extra_out):
                raise ValueError(f'{len(sandglass_ratios)} sandglass_ratios for '
                                 f'{len(extra_out)} extra levels')
            norm_cfg = kwargs.get('norm_cfg') or dict(type='BN')
            act_cfg = kwargs.get('act_cfg', dict(type='ReLU6'))
            self.extra_layers = nn.ModuleList(
                SandglassExtraLayer(cin, cout, r, s, p, norm_cfg, act_cfg)
                for cin, cout, r, s, p in zip(extra_in, extra_out, sandglass_ratios,
                                              level_strides, level_paddings))
        self.extra_type = extra_type

    def forward(self, inputs: Union[List[torch.Tensor], Tuple[torch.Tensor, ...]]
                ) -> Tuple[torch.Tensor, ...]:
        """Head inputs (optionally L2-normalised first level) + extra levels."""
        n = len(self.in_channels)
        if len(inputs) == n + 1:
            outs, feat = list(inputs[:n]), inputs[n]
        elif len(inputs) == n:
            outs, feat = list(inputs), inputs[-1]
        else:
            raise ValueError(f'SSDLiteNeck got {len(inputs)} inputs for in_channels '
                             f'{self.in_channels}: expected {n} or {n + 1} (feed input)')
        got = tuple(x.shape[1] for x in outs)
        if got != self.in_channels or feat.shape[1] != got[-1]:
            raise ValueError(self._channels_message(got, feat.shape[1]))
        if hasattr(self, 'l2_norm'):
            outs[0] = self.l2_norm(outs[0])
        for layer in self.extra_layers:
            feat = layer(feat)
            outs.append(feat)
        return tuple(outs)

    def _channels_message(self, got: Tuple[int, ...], feed: int) -> str:
        """What the inputs have against ``in_channels``, and the options that
        fit the channels (a backbone's ``widen_factor`` or taps changed alone)."""
        if feed != got[-1]:
            return (f'SSDLiteNeck feed input has {feed} channels, the last head input {got[-1]}: '
                    'the extra layers start from as many channels as the last head input has')
        out = got + self.out_channels[len(got):]
        return (f'SSDLiteNeck inputs have {got} channels, in_channels says {self.in_channels} '
                '(a backbone option changed alone?): for these inputs set model.neck.in_channels='
                f'"{got}" model.neck.out_channels="{out}" model.bbox_head.in_channels="{out}"')
