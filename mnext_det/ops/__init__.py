"""Compiled operators: C++ kernels built for this machine's CPU on first use
(``torch.utils.cpp_extension``), each with torch's own op as the fallback."""
from .batch_norm_act import batch_norm_act
from .depthwise_conv3x3 import depthwise_conv3x3
from .depthwise_conv_bn_act import depthwise_conv3x3_bn_act
from .extension import extension_status, load_extension

__all__ = ['batch_norm_act', 'depthwise_conv3x3', 'depthwise_conv3x3_bn_act', 'extension_status',
           'load_extension']
