"""DepthwiseConvHook: 3x3 depthwise convs trained by the C++ kernel on
channels-last CPU tensors; outputs and gradients within the float32 bound of
torch's conv, the same state_dict, evaluation bit-identical; with their fused
batch norm as one op, bitwise the two layers."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmdet.models.backbones import MobileNetV2
from torch import nn

from mnext_det.engine import (DepthwiseNormSequential, KernelDepthwiseConv2d,  # the hook too
                              depthwise_as_kernel, fuse_batch_norm, to_channels_last)
from mnext_det.engine.depthwise_norm_conv_module import DepthwiseNormConvModule
from mnext_det.models.factory import create_model
from mnext_det.ops import load_extension

from ..tolerances import TEST_SEED, assert_float32_close, depth_and_fan_in, float32_bound
from .hooked_model import hooked_mobilenext


@pytest.fixture(scope='module', autouse=True)
def extension():
    load_extension(required=True)


def test_only_3x3_depthwise_convs_with_padding_1_and_no_bias_are_converted():
    model = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False),            # yes
                          nn.Conv2d(8, 8, 3, 2, padding=1, groups=8, bias=False),         # yes
                          nn.Conv2d(8, 8, 3, padding=1, groups=8),                        # bias
                          nn.Conv2d(8, 8, 3, 3, padding=1, groups=8, bias=False),         # stride 3
                          nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=8, bias=False),
                          nn.Conv2d(8, 8, 5, padding=2, groups=8, bias=False),            # 5x5
                          nn.Conv2d(8, 16, 3, padding=1, groups=8, bias=False),           # x2
                          nn.Conv2d(8, 8, 3, padding=1, groups=2, bias=False),            # grouped
                          nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False,
                                    padding_mode='reflect'))
    assert depthwise_as_kernel(model) == (2, 0)  # no batch norm to pair with
    assert [type(m) is KernelDepthwiseConv2d for m in model] == [True, True] + [False] * 7


@pytest.mark.parametrize('stride', [1, 2])
def test_layer_outputs_and_gradients_match_torchs_conv(stride):
    torch.manual_seed(TEST_SEED)
    conv = nn.Conv2d(24, 24, 3, stride, 1, groups=24, bias=False)
    ref = copy.deepcopy(conv)
    depthwise_as_kernel(nn.Sequential(conv))
    x = torch.randn(4, 24, 11, 12).contiguous(memory_format=torch.channels_last)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    out, out_ref = conv(x1), ref(x2)
    assert out.grad_fn.name() == '_DepthwiseConv3x3Backward'  # the kernel, not torch's conv
    assert out.is_contiguous(memory_format=torch.channels_last)
    assert_float32_close(out.detach(), out_ref.detach(), 2, 9, what='output')
    grad = torch.randn_like(out_ref)
    out.backward(grad)
    out_ref.backward(grad)
    assert_float32_close(x1.grad, x2.grad, 2, 9, what='input grad')
    terms = out[:, 0].numel()  # the weight gradient sums over every output position
    assert_float32_close(conv.weight.grad, ref.weight.grad, 2, terms, what='weight grad')


def test_evaluation_and_nchw_inputs_run_torchs_conv_bit_identically():
    torch.manual_seed(TEST_SEED)
    conv = nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False)
    depthwise_as_kernel(nn.Sequential(conv))
    cl = torch.randn(2, 8, 5, 5).contiguous(memory_format=torch.channels_last)
    nchw = torch.randn(2, 8, 5, 6)
    with torch.no_grad():
        assert torch.equal(conv.eval()(cl), F.conv2d(cl, conv.weight, None, 1, 1, 1, 8))
    conv.train()
    out = conv(nchw)
    assert out.grad_fn.name() != '_DepthwiseConv3x3Backward'
    assert torch.equal(out, F.conv2d(nchw, conv.weight, None, 1, 1, 1, 8))


def test_mobilenext_trains_within_float32_bound_and_keeps_its_state_dict():
    model, ref, x = hooked_mobilenext('DepthwiseConvHook')
    converted = [m for m in model.modules() if isinstance(m, KernelDepthwiseConv2d)]
    assert len(converted) == sum(isinstance(m, nn.Conv2d) and m.groups > 1
                                 for m in ref.modules())
    depth, fan_in = depth_and_fan_in(ref)
    exact = copy.deepcopy(ref).double()
    outs, grads = [], []
    for net, xin in ((model, x), (ref, x), (exact, x.double())):
        for m in net.modules():
            if isinstance(m, nn.Dropout):
                m.p = 0.0  # the same network in all three
        xi = xin.clone().requires_grad_()
        outs.append(net.train()(xi))
        outs[-1].square().sum().backward()
        grads.append(xi.grad.double())
    assert_float32_close(outs[0].detach(), outs[1].detach(), depth, fan_in, what='train logits')
    # Train-mode batch norm over the 16 values per channel of the last 2x2 maps amplifies
    # rounding in backward beyond the float32 bound: over seeds 0-11 both float32 input
    # gradients lie up to 0.08 from the float64 one, and 4e-5 to 0.015 from each other. So
    # the kernel's must be as near the float64 gradient as torch's float32 one (measured
    # 0.64-1.16 times as far), with the bound for where both are close.
    kernel, torch32, exact = grads
    err, err_torch = (float((g - exact).abs().max()) for g in (kernel, torch32))
    bound = float32_bound(exact.numpy(), 2 * depth, fan_in)  # back through every layer
    assert err <= 2 * err_torch + bound, (err, err_torch, bound)


def _graph_nodes(out, name):
    """How many nodes called ``name`` the autograd graph of ``out`` holds."""
    seen, todo = set(), [out.grad_fn]
    while todo:
        node = todo.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        todo.extend(next_node for next_node, _ in node.next_functions)
    return sum(node.name() == name for node in seen)


def _paired(name):
    torch.manual_seed(TEST_SEED)
    model = (create_model('mobilenext_035', num_classes=5) if name == 'mobilenext'
             else MobileNetV2(widen_factor=0.5, out_indices=(7, )))
    to_channels_last(model)
    keys = list(model.state_dict())
    fuse_batch_norm(model)
    convs, pairs = depthwise_as_kernel(model)
    assert list(model.state_dict()) == keys
    return model, convs, pairs


@pytest.mark.parametrize('name', ['mobilenext', 'mobilenetv2'])
def test_conv_and_batch_norm_as_one_op_train_bitwise_as_the_two_layers(name):
    model, convs, pairs = _paired(name)
    # every depthwise conv of both networks is followed by its batch norm
    assert convs == pairs == sum(type(m) is KernelDepthwiseConv2d for m in model.modules()) > 0
    container = DepthwiseNormSequential if name == 'mobilenext' else DepthwiseNormConvModule
    assert any(type(m) is container for m in model.modules())
    ref = copy.deepcopy(model)
    for m in ref.modules():  # the same layers, run one by one
        if type(m) is DepthwiseNormSequential:
            m.__class__ = nn.Sequential
        elif type(m) is DepthwiseNormConvModule:
            m.__class__ = ConvModule
    x = torch.randn(4, 3, 64, 64).contiguous(memory_format=torch.channels_last)
    runs = []
    for net in (model, ref):
        net.train()  # mmdet's MobileNetV2.train returns None
        torch.manual_seed(1)  # the same dropout mask in both
        out = net(x)
        out = out[0] if isinstance(out, tuple) else out
        fused = _graph_nodes(out, '_DepthwiseConvBnActBackward')
        assert fused == (pairs if net is model else 0)
        out.square().sum().backward()
        runs.append([out] + [p.grad for p in net.parameters()] + list(net.buffers()))
    assert all(torch.equal(a, b) for a, b in zip(*runs))
    model.eval()
    ref.eval()
    with torch.no_grad():
        assert torch.equal(model(x)[0], ref(x)[0])


def test_without_fused_batch_norm_no_container_changes():
    model = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False),
                          nn.BatchNorm2d(8))
    assert depthwise_as_kernel(model) == (1, 0)
    assert type(model) is nn.Sequential
