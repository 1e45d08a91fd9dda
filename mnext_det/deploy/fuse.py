"""Fold BatchNorm layers into the convolutions before them."""
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.utils.fusion import fuse_conv_bn_eval

__all__ = ['fuse_conv_bn']


def fuse_conv_bn(module: nn.Module) -> nn.Module:
    """Fold every BN that directly follows a ``Conv2d`` into that conv, in place.

    A BN is folded when it is the next child, in registration order, after a
    ``Conv2d`` of the same parent: the order of ``nn.Sequential``,
    torchvision's ``Conv2dNormActivation`` and mmcv's ``ConvModule``
    (conv, norm, act). The conv gets the BN's scale and shift (and a bias);
    the BN is replaced by ``nn.Identity``. Outputs are unchanged up to float
    rounding.

    Args:
        module: A model in eval mode (BN running statistics are used).

    Returns:
        ``module``, modified in place.

    Raises:
        ValueError: ``module`` is in training mode, or a BN to fold keeps no
            running statistics.
    """
    if module.training:
        raise ValueError('fuse_conv_bn needs a model in eval mode: call model.eval() first')
    _fuse_children(module, prefix='')
    return module


def _fuse_children(module: nn.Module, prefix: str) -> None:
    last_name, last = None, None
    for name, child in list(module.named_children()):
        if isinstance(child, _BatchNorm) and isinstance(last, nn.Conv2d):
            if child.running_mean is None:
                raise ValueError(f'{prefix}{name}: BN without running statistics '
                                 '(track_running_stats=False) cannot be folded')
            setattr(module, last_name, fuse_conv_bn_eval(last, child))
            setattr(module, name, nn.Identity())
            last_name, last = None, None
            continue
        _fuse_children(child, prefix=f'{prefix}{name}.')
        last_name, last = name, child
