"""Weight initialisers registered in mmengine's ``WEIGHT_INITIALIZERS``.

``ZeroInitResidual`` is torchvision's ``zero_init_residual`` rule (Goyal et al.,
"Accurate, Large Minibatch SGD", 2017, Sec. 5.1) as an mmengine ``init_cfg``
entry, so one config line gives MobileNeXt and mmdet's MobileNetV2 the same
init: every block with an identity shortcut starts as the identity.
"""
from typing import Optional

import torch.nn as nn
from mmengine.model.weight_init import BaseInit, update_init_info
from mmengine.registry import WEIGHT_INITIALIZERS
from torch.nn.modules.batchnorm import _BatchNorm

__all__ = ['ZeroInitResidual', 'has_identity_shortcut', 'last_norm']


def has_identity_shortcut(block: nn.Module) -> bool:
    """Whether ``block`` adds its input to its output: MobileNeXt's
    ``SandglassBlock.use_shortcut``, mmdet's ``InvertedResidual.with_res_shortcut``
    or torchvision's ``InvertedResidual.use_res_connect``."""
    return any(getattr(block, flag, False)
               for flag in ('use_shortcut', 'with_res_shortcut', 'use_res_connect'))


def last_norm(block: nn.Module) -> Optional[_BatchNorm]:
    """The last BatchNorm layer of ``block`` in module order (the one before
    the shortcut add in both block types), or None."""
    norms = [m for m in block.modules() if isinstance(m, _BatchNorm)]
    return norms[-1] if norms else None


@WEIGHT_INITIALIZERS.register_module(name='ZeroInitResidual')
class ZeroInitResidual(BaseInit):
    """Set the scale of the last BN of every identity-shortcut block to zero.

    Use it after the conv init, e.g. ``init_cfg=[dict(type='TruncNormal',
    layer='Conv2d', std=0.03), dict(type='ZeroInitResidual')]``. A block with
    a partial identity tensor (``identity_tensor_multiplier < 1``) has its
    whole last BN zeroed, as torchvision does for a full shortcut. Raises
    ``ValueError`` on a module with no such block, so a typo in a config
    cannot silently do nothing.
    """

    def __call__(self, module: nn.Module) -> None:
        count = 0
        for block in module.modules():
            norm = last_norm(block) if has_identity_shortcut(block) else None
            if norm is not None and norm.weight is not None:
                nn.init.zeros_(norm.weight)
                count += 1
        if count == 0:
            raise ValueError(f'ZeroInitResidual: {type(module).__name__} has no block with an '
                             'identity shortcut (use_shortcut, with_res_shortcut, '
                             'use_res_connect) and a BN layer')
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())

    def _get_init_info(self) -> str:
        return f'{self.__class__.__name__}: last BN scale of identity-shortcut blocks = 0'
