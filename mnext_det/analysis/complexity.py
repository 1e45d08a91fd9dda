"""Parameter and multiply-add counts (convolutions and linear layers)."""
from typing import Sequence

import torch
import torch.nn as nn


def count_params(model: nn.Module) -> int:
    """Number of parameters, BN included (as the authors count them)."""
    return sum(p.numel() for p in model.parameters())


def count_madds(model: nn.Module, input_shape: Sequence[int] = (1, 3, 224, 224)) -> int:
    """Multiply-adds of Conv2d and Linear layers for one forward pass on a
    zero tensor of ``input_shape`` (BN, activations and pooling excluded,
    the convention of the MobileNet papers)."""
    total = 0

    def conv_hook(m: nn.Conv2d, _inp, out: torch.Tensor) -> None:
        nonlocal total
        k = m.kernel_size[0] * m.kernel_size[1]
        total += out.numel() * k * m.in_channels // m.groups

    def linear_hook(m: nn.Linear, _inp, out: torch.Tensor) -> None:
        nonlocal total
        total += out.numel() * m.in_features

    handles = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
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
