"""Batch norms with random statistics and affine parameters, so that folding
them into the convs is tested on values far from the init's."""
import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from ..tolerances import TEST_SEED


def random_bn(model: nn.Module) -> nn.Module:
    """``model`` in eval mode with every batch norm's running statistics and
    affine parameters drawn from a seeded generator."""
    g = torch.Generator().manual_seed(TEST_SEED)
    for m in model.modules():
        if isinstance(m, _BatchNorm):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=g) * 0.1)
    model.eval()
    return model
