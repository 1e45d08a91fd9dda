"""Small layer builders shared by the networks, with no mmcv dependency.

``norm_cfg``/``act_cfg`` follow mmcv's dict convention so configs read the
same as mmdet's, but only torch layers are built, keeping the classification
path free of mmcv's compiled ops.
"""
from typing import Dict, Optional

import torch.nn as nn

from .activations import InplaceReLU6

_NORMS = {'BN': nn.BatchNorm2d, 'BN2d': nn.BatchNorm2d, 'SyncBN': nn.SyncBatchNorm}
_ACTS = {
    'ReLU': nn.ReLU,
    'ReLU6': nn.ReLU6,
    'InplaceReLU6': InplaceReLU6,
    'HSwish': nn.Hardswish,
    'Hardswish': nn.Hardswish,
    'SiLU': nn.SiLU,
    'Swish': nn.SiLU,
}


def make_divisible(value: float, divisor: int = 8,
                   min_value: Optional[int] = None) -> int:
    """TF's ``make_divisible``: round to a multiple of ``divisor`` (at least
    ``min_value``, default ``divisor``), adding one ``divisor`` if rounding
    lost more than 10 %."""
    min_value = min_value or divisor
    new_value = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new_value < 0.9 * value:
        new_value += divisor
    return new_value


def build_norm(cfg: Dict, num_features: int) -> nn.Module:
    """Build a norm layer from ``dict(type='BN'|'SyncBN', eps=, momentum=,
    requires_grad=)``."""
    cfg = dict(cfg)
    norm_type = cfg.pop('type', None)
    if norm_type not in _NORMS:
        raise ValueError(f'norm_cfg type must be one of {sorted(_NORMS)}, '
                         f'got {norm_type!r}')
    requires_grad = cfg.pop('requires_grad', True)
    layer = _NORMS[norm_type](num_features, **cfg)
    for param in layer.parameters():
        param.requires_grad = requires_grad
    return layer


def build_activation(cfg: Dict) -> nn.Module:
    """Build an activation from ``dict(type='InplaceReLU6'|'ReLU6'|'ReLU'|'HSwish'|...)``."""
    cfg = dict(cfg)
    act_type = cfg.pop('type', None)
    if act_type not in _ACTS:
        raise ValueError(f'act_cfg type must be one of {sorted(_ACTS)}, '
                         f'got {act_type!r}')
    cfg.setdefault('inplace', True)
    return _ACTS[act_type](**cfg)
