"""MobileNeXt backbone.

Zhou et al., "Rethinking Bottleneck Structure for Efficient Mobile Network
Design", ECCV 2020 (https://arxiv.org/abs/2007.02269). Layer structure,
channel rules and parameter names follow the authors' classification code
(``SGBlock`` in ``mobilenext/codebase/models/mnext.py``), so their checkpoints
load into ``features.*`` without renaming.
"""
import math
from collections import abc
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmengine.model import BaseModule
from mmengine.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm

from ..graph_capture import capturing_graph
from ..layers import build_activation, build_norm, make_divisible

__all__ = ['SandglassBlock', 'MobileNeXt', 'FeatureInfo']

# t (reduction ratio: hidden = in // t), c (out channels), n (blocks), s (stride)
ARCH_SETTINGS: List[Tuple[int, int, int, int]] = [
    (2, 96, 1, 2),
    (6, 144, 1, 1),
    (6, 192, 3, 2),
    (6, 288, 3, 2),
    (6, 384, 4, 1),
    (6, 576, 4, 2),
    (6, 960, 3, 1),
    (6, 1280, 1, 1),
]
NUM_LAYERS = 1 + sum(n for _, _, n, _ in ARCH_SETTINGS)  # stem + 20 blocks


class FeatureInfo(list):
    """A backbone's ``feature_info``: one dict per output (``num_chs``,
    ``reduction``, ``module``), with timm's ``channels()`` and
    ``reduction()`` accessors."""

    def channels(self) -> List[int]:
        """Channels of each output."""
        return [f['num_chs'] for f in self]

    def reduction(self) -> List[int]:
        """Stride of each output relative to the input."""
        return [f['reduction'] for f in self]


def hidden_channels(in_channels: int, out_channels: int, reduction: int) -> int:
    """Hidden width of a sandglass block: ``in // t``, raised to
    ``make_divisible(ceil(out / 6), 16)`` when below ``out / 6``."""
    hidden = in_channels // reduction
    if hidden < out_channels / 6.:
        hidden = make_divisible(math.ceil(out_channels / 6.), 16)
    return hidden


class SandglassBlock(nn.Module):
    """The sandglass block (paper Sec. 3.2; the authors' ``SGBlock``).

    The branch is picked in the authors' order; stride sits on the last
    depthwise conv. ``conv`` holds the layers at the authors' indices.

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        stride: 1 or 2.
        reduction: Reduction ratio ``t``; 2 marks the first stage (branch A).
        keep_3x3: Keep both depthwise convs and drop the shortcut, as for the
            first block of a stage with ``n == 1 and s == 1``.
        identity_channels: Channels the shortcut adds (the first ones); equal
            to ``out_channels`` for the full shortcut.
        norm_cfg: Normalisation layer config. Default: BN.
        act_cfg: Activation config. Default: ReLU6 (``InplaceReLU6``).
        with_cp: Use gradient checkpointing.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int,
                 reduction: int,
                 keep_3x3: bool = False,
                 identity_channels: Optional[int] = None,
                 norm_cfg: Optional[Dict] = None,
                 act_cfg: Optional[Dict] = None,
                 with_cp: bool = False) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f'stride must be 1 or 2, got {stride}')
        norm_cfg = norm_cfg or dict(type='BN')
        act_cfg = act_cfg or dict(type='InplaceReLU6')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.stride = stride
        self.with_cp = with_cp
        hidden = hidden_channels(in_channels, out_channels, reduction)
        self.hidden_channels = hidden

        def dw(ch: int, s: int, act: bool) -> List[nn.Module]:
            layers = [
                nn.Conv2d(ch, ch, 3, s, 1, groups=ch, bias=False),
                build_norm(norm_cfg, ch)
            ]
            return layers + [build_activation(act_cfg)] if act else layers

        def pw(cin: int, cout: int, act: bool) -> List[nn.Module]:
            layers = [
                nn.Conv2d(cin, cout, 1, 1, 0, bias=False),
                build_norm(norm_cfg, cout)
            ]
            return layers + [build_activation(act_cfg)] if act else layers

        squeeze_expand = pw(in_channels, hidden, False) + pw(
            hidden, out_channels, True)
        use_shortcut = False
        if reduction == 2:
            branch = 'A'
            layers = dw(in_channels, 1, True) + squeeze_expand + dw(
                out_channels, stride, False)
        elif in_channels != out_channels and stride == 1 and not keep_3x3:
            branch = 'B'
            layers = squeeze_expand
        elif in_channels != out_channels and stride == 2 and not keep_3x3:
            branch = 'C'
            layers = squeeze_expand + dw(out_channels, stride, False)
        else:
            # The authors' code ignores the stride here; it only arises when
            # channel rounding makes in == out on a stride-2 stage (widths
            # below 0.2), where we keep the stride and drop the shortcut.
            branch = 'D'
            layers = dw(in_channels, 1, True) + squeeze_expand + dw(
                out_channels, stride, False)
            use_shortcut = not keep_3x3 and stride == 1
        self.branch = branch
        self.conv = nn.Sequential(*layers)
        self.identity_channels = 0
        if use_shortcut:
            self.identity_channels = (
                out_channels if identity_channels is None else
                identity_channels)
        if 0 < self.identity_channels < out_channels:
            mask = torch.zeros(1, out_channels, 1, 1)
            mask[:, :self.identity_channels] = 1
            self.register_buffer('identity_mask', mask, persistent=False)
        # Index of the last depthwise conv in ``conv`` (None for branch B):
        # the authors' SSDLite taps features just before it.
        self.tap_index = None if branch == 'B' else len(layers) - 2

    @property
    def use_shortcut(self) -> bool:
        """Whether the block has an identity shortcut."""
        return self.identity_channels > 0

    def _residual(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        if self.identity_channels == self.out_channels:
            return out + x
        if capturing_graph():
            # Graph capture (ONNX/TFLite export, torch.compile): an in-place
            # slice add becomes ScatterND plus layout transposes in ONNX
            # Runtime; a full add of the masked input is one Mul + Add.
            return out + x * self.identity_mask
        k = self.identity_channels
        out[:, :k].add_(x[:, :k])
        return out

    def forward_with_tap(
            self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Return ``(tap, out)``: the activation before the last depthwise
        conv and the block output."""
        if self.tap_index is None:
            raise ValueError(
                f'branch {self.branch} block has no depthwise conv to tap')
        tap = self.conv[:self.tap_index](x)
        out = self.conv[self.tap_index:](tap)
        if self.use_shortcut:
            out = self._residual(out, x)
        return tap, out

    def forward(self, x: torch.Tensor) -> torch.Tensor:

        def _inner(x: torch.Tensor) -> torch.Tensor:
            out = self.conv(x)
            return self._residual(out, x) if self.use_shortcut else out

        if self.with_cp and x.requires_grad:
            return cp.checkpoint(_inner, x, use_reentrant=False)
        return _inner(x)


def _check_indices(name: str, indices: Sequence[int]) -> Tuple[int, ...]:
    if not isinstance(indices, abc.Sequence) or isinstance(indices, str):
        raise ValueError(f'{name} must be a list or tuple of layer indices in range '
                         f'[0, {NUM_LAYERS - 1}], e.g. ({indices!r}, ), got {indices!r}')
    indices = tuple(indices)
    for i in indices:
        if not isinstance(i, int) or not 0 <= i < NUM_LAYERS:
            raise ValueError(f'{name} must hold layer indices in range '
                             f'[0, {NUM_LAYERS - 1}], got {indices}')
    return indices


@MODELS.register_module()
class MobileNeXt(BaseModule):
    """MobileNeXt backbone (the authors' ``features``: stem + 20 blocks).

    Args:
        widen_factor: Width multiplier (> 0); 0.35, 0.5, 0.75, 1.0 and 1.4
            were published. Channels use ``make_divisible(c * w, 8)``; the
            1280 stage stays 1280 when ``w < 1``. Default: 1.0.
        identity_tensor_multiplier: Fraction in (0, 1] of channels the
            shortcut adds (paper Sec. 3.3); 1.0 is the full shortcut.
            Default: 1.0.
        out_indices: Layers (0 = stem, 1-20 = blocks) whose outputs are
            returned. Default: (20,).
        tap_indices: Layers whose activation *before the last depthwise
            conv* is returned too, as the authors' SSDLite taps it: (13, 20)
            gives 576 ch at stride 16 and 1280 ch at stride 32 at width 1.0.
            Outputs are ordered by layer, a tap before its layer's output.
            Default: ().
        frozen_stages: Freeze the stem and this many blocks (eval mode, no
            gradients); -1 freezes nothing. Default: -1.
        norm_cfg: Normalisation config, e.g. ``dict(type='BN', eps=1e-3,
            momentum=0.03)``. Default: ``dict(type='BN')``.
        act_cfg: Activation config. Default: ``dict(type='InplaceReLU6')``, ReLU6
            computed in place under autograd too (``mnext_det/models/activations.py``).
        norm_eval: Keep BN layers in eval mode during training. Default: False.
        with_cp: Gradient checkpointing in blocks. Default: False.
        init_cfg: mmengine init config applied by ``init_weights``, e.g.
            ``dict(type='Pretrained', checkpoint=..., prefix='backbone.')``;
            without it the Kaiming/BN init of ``__init__`` stays.
        in_channels: Channels of the input images (the stem conv's input).
            Default: 3.
    """

    def __init__(self,
                 widen_factor: float = 1.0,
                 identity_tensor_multiplier: float = 1.0,
                 out_indices: Sequence[int] = (NUM_LAYERS - 1, ),
                 tap_indices: Sequence[int] = (),
                 frozen_stages: int = -1,
                 norm_cfg: Optional[Dict] = None,
                 act_cfg: Optional[Dict] = None,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None,
                 in_channels: int = 3) -> None:
        super().__init__(init_cfg)
        if not isinstance(in_channels, int) or in_channels < 1:
            raise ValueError(f'in_channels must be an int >= 1, got {in_channels!r}')
        if not isinstance(widen_factor, (int, float)) or not 0 < widen_factor < math.inf:
            raise ValueError(
                f'widen_factor must be a finite number > 0, got {widen_factor!r}')
        if not isinstance(identity_tensor_multiplier,
                          (int, float)) or not 0 < identity_tensor_multiplier <= 1:
            raise ValueError('identity_tensor_multiplier must be in (0, 1], '
                             f'got {identity_tensor_multiplier!r}')
        self.out_indices = _check_indices('out_indices', out_indices)
        self.tap_indices = _check_indices('tap_indices', tap_indices)
        if not self.out_indices and not self.tap_indices:
            raise ValueError('out_indices and tap_indices are both empty')
        if not -1 <= frozen_stages < NUM_LAYERS:
            raise ValueError(f'frozen_stages must be in range [-1, '
                             f'{NUM_LAYERS - 1}], got {frozen_stages}')
        self.widen_factor = widen_factor
        self.identity_tensor_multiplier = identity_tensor_multiplier
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        norm_cfg = norm_cfg or dict(type='BN')
        act_cfg = act_cfg or dict(type='InplaceReLU6')

        in_ch = make_divisible(32 * widen_factor, 8)
        stem = nn.Sequential(
            nn.Conv2d(in_channels, in_ch, 3, 2, 1, bias=False), build_norm(norm_cfg, in_ch),
            build_activation(act_cfg))
        layers: List[nn.Module] = [stem]
        for t, c, n, s in ARCH_SETTINGS:
            out_ch = make_divisible(c * widen_factor, 8)
            if c == 1280 and widen_factor < 1:
                out_ch = 1280
            for i in range(n):
                identity = max(1, int(round(out_ch * identity_tensor_multiplier)))
                layers.append(
                    SandglassBlock(
                        in_ch,
                        out_ch,
                        stride=s if i == 0 else 1,
                        reduction=t,
                        keep_3x3=(i == 0 and n == 1 and s == 1),
                        identity_channels=identity,
                        norm_cfg=norm_cfg,
                        act_cfg=act_cfg,
                        with_cp=with_cp))
                in_ch = out_ch
        self.features = nn.Sequential(*layers)
        self.out_channels = in_ch
        for i in self.tap_indices:
            if i == 0 or self.features[i].tap_index is None:
                raise ValueError(
                    f'tap_indices: layer {i} has no depthwise conv after its '
                    'pointwise convs to tap (stem or branch B)')
        self._reset_parameters()
        self._freeze_stages()

    def _reset_parameters(self) -> None:
        # The authors' init (torchvision MobileNetV2 style); ``init_cfg``
        # (e.g. Pretrained) applies on top of it in ``init_weights``.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out')
            elif isinstance(m, (_BatchNorm, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    @property
    def feature_info(self) -> FeatureInfo:
        """timm-style description of each returned feature: ``num_chs``,
        ``reduction`` and ``module``, in output order."""
        info, reduction = FeatureInfo(), 1
        for i, layer in enumerate(self.features):
            tap_reduction = reduction
            if i == 0:
                reduction, channels = 2, layer[0].out_channels
            else:
                reduction *= layer.stride
                channels = layer.out_channels
            if i in self.tap_indices:
                info.append(
                    dict(num_chs=channels, reduction=tap_reduction,
                         module=f'features.{i}.conv.{layer.tap_index - 1}'))
            if i in self.out_indices:
                info.append(
                    dict(num_chs=channels, reduction=reduction,
                         module=f'features.{i}'))
        return info

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        outs = []
        last = max(self.out_indices + self.tap_indices)
        for i, layer in enumerate(self.features[:last + 1]):
            if i in self.tap_indices:
                tap, x = layer.forward_with_tap(x)
                outs.append(tap)
            else:
                x = layer(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def _freeze_stages(self) -> None:
        for layer in self.features[:self.frozen_stages + 1]:
            layer.eval()
            for param in layer.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> 'MobileNeXt':
        """Set train mode, keeping frozen layers and (with ``norm_eval``)
        BN layers in eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self
