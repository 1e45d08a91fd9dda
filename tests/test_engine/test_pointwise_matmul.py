"""PointwiseMatmulHook: stride-1 1x1 convs trained as matrix products on
channels-last CPU tensors; outputs and gradients within the float32 bound of
torch's conv, the same state_dict, evaluation bit-identical."""
import copy

import torch
import torch.nn.functional as F
from torch import nn

from mnext_det.engine import MatmulPointwiseConv2d, pointwise_as_matmul  # registers the hook

from ..tolerances import TEST_SEED, assert_float32_close, depth_and_fan_in
from .hooked_model import hooked_mobilenext


def test_only_stride_1_unpadded_ungrouped_1x1_convs_are_converted():
    model = nn.Sequential(nn.Conv2d(8, 16, 1),                    # converted
                          nn.Conv2d(16, 16, 1, bias=False),       # converted
                          nn.Conv2d(16, 16, 1, stride=2),         # strided
                          nn.Conv2d(16, 16, 1, padding=1),        # padded
                          nn.Conv2d(16, 16, 1, groups=4),         # grouped
                          nn.Conv2d(16, 16, 3, padding=1))        # 3x3
    assert pointwise_as_matmul(model) == 2
    assert [type(m) is MatmulPointwiseConv2d for m in model] == [True, True] + [False] * 4


def test_layer_outputs_and_gradients_match_torchs_conv():
    torch.manual_seed(TEST_SEED)
    conv = nn.Conv2d(48, 96, 1)
    ref = copy.deepcopy(conv)
    pointwise_as_matmul(nn.Sequential(conv))
    x = torch.randn(4, 48, 10, 12).contiguous(memory_format=torch.channels_last)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    out, out_ref = conv(x1), ref(x2)
    assert out.is_contiguous(memory_format=torch.channels_last)  # the next layer's layout
    assert_float32_close(out.detach(), out_ref.detach(), 1, 48, what='output')
    grad = torch.randn_like(out_ref)
    out.backward(grad)
    out_ref.backward(grad)
    assert_float32_close(x1.grad, x2.grad, 1, 96, what='input grad')  # sums over out channels
    terms = 4 * 10 * 12  # weight and bias gradients sum over every position of the batch
    assert_float32_close(conv.weight.grad, ref.weight.grad, 1, terms, what='weight grad')
    assert_float32_close(conv.bias.grad, ref.bias.grad, 1, terms, what='bias grad')


def test_evaluation_and_nchw_inputs_run_torchs_conv_bit_identically():
    torch.manual_seed(TEST_SEED)
    conv = nn.Conv2d(8, 16, 1)
    pointwise_as_matmul(nn.Sequential(conv))
    cl = torch.randn(2, 8, 5, 5).contiguous(memory_format=torch.channels_last)
    nchw = torch.randn(2, 8, 5, 6)
    with torch.no_grad():
        assert torch.equal(conv.eval()(cl), F.conv2d(cl, conv.weight, conv.bias))
    conv.train()
    assert torch.equal(conv(nchw), F.conv2d(nchw, conv.weight, conv.bias))
    assert conv(nchw).is_contiguous()


def test_mobilenext_trains_within_float32_bound_and_keeps_its_state_dict():
    model, ref, x = hooked_mobilenext('PointwiseMatmulHook')
    converted = [m for m in model.modules() if isinstance(m, MatmulPointwiseConv2d)]
    assert len(converted) == sum(isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1)
                                 for m in ref.modules())
    depth, fan_in = depth_and_fan_in(ref)
    outs = []
    for net in (model.train(), ref.train()):
        torch.manual_seed(1)  # the same dropout mask in both
        outs.append(net(x))
    assert_float32_close(outs[0].detach(), outs[1].detach(), depth, fan_in, what='train logits')
