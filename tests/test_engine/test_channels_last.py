"""ChannelsLastHook: same outputs and gradients, NHWC inside, portable checkpoints."""
import copy
from types import SimpleNamespace

import torch
from mmengine.registry import HOOKS

import mnext_det.engine  # noqa: F401  (registers the hook)
from mnext_det.models.factory import create_model

from ..tolerances import assert_float32_close, depth_and_fan_in


def _model():
    torch.manual_seed(0)
    return create_model('mobilenext_035', num_classes=5).eval()


def test_hook_converts_model_and_keeps_outputs():
    ref = _model()
    model = copy.deepcopy(ref)
    seen = []
    model.backbone.features[0].register_forward_pre_hook(
        lambda m, args: seen.append(args[0].is_contiguous(memory_format=torch.channels_last)))
    HOOKS.build(dict(type='ChannelsLastHook')).before_run(SimpleNamespace(model=model))
    conv = model.backbone.features[0][0].weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
    assert not conv.is_contiguous()
    x = torch.randn(2, 3, 64, 64, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_(True)
    out, out_ref = model(x), ref(x_ref)
    assert seen == [True]
    depth, fan_in = depth_and_fan_in(ref)
    assert_float32_close(out.detach(), out_ref.detach(), depth, fan_in, what='NHWC outputs')
    out.sum().backward()
    out_ref.sum().backward()
    # backward runs the layers once more: twice the depth
    assert_float32_close(x.grad, x_ref.grad, 2 * depth, fan_in, what='NHWC input grads')
    assert_float32_close(conv.grad, ref.backbone.features[0][0].weight.grad, 2 * depth, fan_in,
                         what='NHWC stem weight grads')


def test_checkpoint_of_channels_last_model_loads_into_default_model():
    model = _model()
    HOOKS.build(dict(type='ChannelsLastHook')).before_run(SimpleNamespace(model=model))
    HOOKS.build(dict(type='ChannelsLastHook')).before_run(SimpleNamespace(model=model))
    assert len(model.backbone._forward_pre_hooks) == 1
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.01)
    fresh = create_model('mobilenext_035', num_classes=5).eval()
    fresh.load_state_dict(model.state_dict())
    assert fresh.backbone.features[0][0].weight.is_contiguous()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert_float32_close(fresh(x), model(x), *depth_and_fan_in(fresh),
                             what='NCHW model from NHWC checkpoint')
