"""SmallMapDepthwiseHook: depthwise convs padded first on maps smaller than
their kernel; the same outputs, gradients and state_dict."""
import copy
from types import SimpleNamespace

import torch
from mmengine.registry import HOOKS
from torch import nn

import mnext_det.engine  # noqa: F401  (registers the hook)
from mnext_det.engine import PadFirstDepthwiseConv2d, pad_small_depthwise
from mnext_det.models.factory import create_model

from ..tolerances import assert_float32_close, depth_and_fan_in


def _model():
    torch.manual_seed(0)
    return create_model('mobilenext_035', num_classes=5)


def test_only_padded_depthwise_convs_are_converted():
    model = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, groups=8),   # depthwise: converted
                          nn.Conv2d(8, 8, 3, padding=0, groups=8),   # no padding
                          nn.Conv2d(8, 16, 3, padding=1),            # dense
                          nn.Conv2d(16, 16, 3, padding=1, groups=4),  # grouped, not depthwise
                          nn.Conv2d(16, 16, 3, padding=1, groups=16, padding_mode='reflect'))
    assert pad_small_depthwise(model) == 1
    assert [type(m) is PadFirstDepthwiseConv2d for m in model] == [True] + [False] * 4


def test_same_outputs_gradients_and_state_dict_on_small_and_large_maps():
    ref = _model().train()
    model = copy.deepcopy(ref)
    HOOKS.build(dict(type='SmallMapDepthwiseHook')).before_run(SimpleNamespace(model=model))
    converted = [m for m in model.modules() if isinstance(m, PadFirstDepthwiseConv2d)]
    assert len(converted) == sum(isinstance(m, nn.Conv2d) and m.groups > 1
                                 for m in ref.modules())
    assert list(model.state_dict()) == list(ref.state_dict())
    smallest = []
    for conv in converted:
        conv.register_forward_pre_hook(lambda m, args: smallest.append(min(args[0].shape[-2:])))
    depth, fan_in = depth_and_fan_in(ref)
    for size in (64, 224):  # the last stages see 2x2 (64 px) and 7x7 (224 px) maps
        x = torch.randn(4, 3, size, size)
        outs = []
        for net in (model, ref):
            torch.manual_seed(1)  # the same dropout mask in both
            outs.append(net(x))
        out, out_ref = outs
        assert (min(smallest) < 3) == (size == 64)  # the padded path runs at 64 px only
        smallest.clear()
        assert_float32_close(out.detach(), out_ref.detach(), depth, fan_in, what=f'{size} px')
        out.square().sum().backward()
        out_ref.square().sum().backward()
        for conv, conv_ref in zip(converted, (m for m in ref.modules()
                                              if isinstance(m, nn.Conv2d) and m.groups > 1)):
            # backward runs the layers once more: twice the depth
            assert_float32_close(conv.weight.grad, conv_ref.weight.grad, 2 * depth, fan_in,
                                 what=f'{size} px weight grads')
        model.zero_grad()
        ref.zero_grad()
