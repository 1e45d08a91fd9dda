"""Parameter and multiply-add counts (convolutions and linear layers)."""
from typing import Callable, Sequence

import torch
import torch.nn as nn


def count_params(model: nn.Module) -> int:
    """Number of parameters, BN included (as the authors count them)."""
    return sum(p.numel() for p in model.parameters())


def _count_forward(model: nn.Module, input_shape: Sequence[int], kinds: tuple,
                   count: Callable[[nn.Module, torch.Tensor], int]) -> int:
    """Sum ``count(module, output)`` over modules of ``kinds`` for one eval
    forward pass on a zero tensor, per image."""
    total = 0

    def hook(m: nn.Module, _inp, out: torch.Tensor) -> None:
        nonlocal total
        total += count(m, out)

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, kinds)]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(*input_shape))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return total // input_shape[0]


def _madds(m: nn.Module, out: torch.Tensor) -> int:
    if isinstance(m, nn.Linear):
        return out.numel() * m.in_features
    return out.numel() * m.kernel_size[0] * m.kernel_size[1] * m.in_channels // m.groups


def count_madds(model: nn.Module, input_shape: Sequence[int] = (1, 3, 224, 224)) -> int:
    """Multiply-adds of Conv2d and Linear layers for one forward pass on a
    zero tensor of ``input_shape`` (BN, activations and pooling excluded,
    the convention of the MobileNet papers)."""
    return _count_forward(model, input_shape, (nn.Conv2d, nn.Linear), _madds)


def count_norm_flops(model: nn.Module, input_shape: Sequence[int] = (1, 3, 224, 224)) -> int:
    """BatchNorm flops as mmengine's ``FlopAnalyzer`` (mmdet's
    ``get_flops.py``) counts them on top of :func:`count_madds`: in eval mode
    two per output element (scale and shift), one without affine weights."""
    return _count_forward(model, input_shape, (nn.modules.batchnorm._BatchNorm, ),
                          lambda m, out: out.numel() * (2 if m.affine else 1))
