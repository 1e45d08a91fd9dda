"""The fastest eager PyTorch inference this package ships: BN folded,
channels-last, compiled by inductor with frozen weights."""
import copy
from typing import Any, Callable

import torch
import torch.nn as nn

from .fuse import fuse_conv_bn

__all__ = ['compile_for_inference']


def compile_for_inference(model: nn.Module) -> Callable[[torch.Tensor], Any]:
    """A callable running a copy of ``model`` for inference: BN folded into the
    convs, channels-last tensors, ``torch.compile`` with inductor's
    ``freezing`` (weights as constants, so oneDNN can prepack them and fuse
    conv + ReLU6 and conv + add) and ``cpp_wrapper`` (the kernels called
    from generated C++, not Python: 1.2x faster for these small networks on
    a CPU, ``docs/deploy.md``). Compiles on the first call (seconds per
    network on a CPU) and again for each new input shape; outputs equal
    ``model``'s up to float rounding. ``model`` itself is left unchanged.

    Args:
        model: Any module whose forward takes one image batch ``(N, 3, H, W)``.
    """
    from torch._inductor import config  # heavy: imported when compiling, not with the package
    net = fuse_conv_bn(copy.deepcopy(model).eval()).to(memory_format=torch.channels_last)
    compiled = torch.compile(net)

    def run(x: torch.Tensor) -> Any:
        with torch.inference_mode(), config.patch(freezing=True, cpp_wrapper=True):
            return compiled(x.contiguous(memory_format=torch.channels_last))
    return run
