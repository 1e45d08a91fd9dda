"""mnext_det/ops/depthwise_conv3x3.py: the 3x3 depthwise conv kernel against
torch's conv computed in float64.

Tolerance from the arithmetic: an output or input-gradient value sums at most
9 float32 products, a weight-gradient value sums ``N * OH * OW`` products, in
float over one output row (``OW`` terms) and in float64 across rows, so each
is within ``sqrt(terms) * sqrt(2 ln N) * eps32`` of the float64 result's scale
as ``tests/tolerances.py`` bounds a sum of ``terms`` products (the float32
rounding of the inputs themselves is absent: the reference is computed from
the same float32 values).
"""
import itertools

import pytest
import torch
import torch.nn.functional as F

from mnext_det.ops import depthwise_conv3x3, load_extension

from ..tolerances import assert_float32_close

# maps from 1x1 up, widths below, at and above a vector of 8, odd sizes for stride 2
SHAPES = [(2, c, h, w) for c, (h, w) in itertools.product(
    (1, 5, 8, 13, 24), ((1, 1), (2, 2), (1, 5), (3, 4), (5, 5), (7, 9), (8, 8)))]
LARGE = [(8, 48, 40, 40), (2, 96, 20, 21)]


@pytest.fixture(scope='module', autouse=True)
def extension():
    load_extension(required=True)


def _case(shape, stride, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=gen).contiguous(memory_format=torch.channels_last)
    w = torch.randn(shape[1], 1, 3, 3, generator=gen)
    out_shape = (shape[0], shape[1], (shape[2] - 1) // stride + 1, (shape[3] - 1) // stride + 1)
    grad = torch.randn(out_shape, generator=gen).contiguous(memory_format=torch.channels_last)
    return x, w, grad


def _reference(x, w, grad, stride):
    """Output and gradients in float64 from the same float32 values."""
    x64, w64 = x.double().requires_grad_(), w.double().requires_grad_()
    out = F.conv2d(x64, w64, None, stride, 1, 1, x.size(1))
    gx, gw = torch.autograd.grad(out, (x64, w64), grad.double())
    return out.detach(), gx, gw


def _kernel(x, w, grad, stride):
    xk, wk = x.clone().requires_grad_(), w.clone().requires_grad_()
    out = depthwise_conv3x3(xk, wk, stride)
    gx, gw = torch.autograd.grad(out, (xk, wk), grad)
    return out.detach(), gx, gw


@pytest.mark.parametrize('stride', [1, 2])
@pytest.mark.parametrize('shape', SHAPES + LARGE)
def test_output_and_gradients_match_float64(shape, stride):
    x, w, grad = _case(shape, stride)
    out, gx, gw = _kernel(x, w, grad, stride)
    ref_out, ref_gx, ref_gw = _reference(x, w, grad, stride)
    assert out.shape == ref_out.shape
    assert out.is_contiguous(memory_format=torch.channels_last)  # the next layer's layout
    assert gx.is_contiguous(memory_format=torch.channels_last)
    assert_float32_close(out, ref_out, 1, 9, what='output')
    assert_float32_close(gx, ref_gx, 1, 9, what='input grad')
    assert_float32_close(gw, ref_gw, 1, grad[:, 0].numel(), what='weight grad')


def test_gradient_in_nchw_layout_is_taken_as_its_values():
    x, w, grad = _case((2, 16, 6, 7), 1)
    _, gx_cl, gw_cl = _kernel(x, w, grad, 1)
    _, gx, gw = _kernel(x, w, grad.contiguous(), 1)
    assert torch.equal(gx, gx_cl) and torch.equal(gw, gw_cl)


def test_either_gradient_alone_equals_it_computed_with_the_other():
    x, w, grad = _case((2, 16, 6, 7), 2)
    _, gx, gw = _kernel(x, w, grad, 2)
    wk = w.clone().requires_grad_()
    (gw_alone, ) = torch.autograd.grad(depthwise_conv3x3(x, wk, 2), wk, grad)
    xk = x.clone().requires_grad_()
    (gx_alone, ) = torch.autograd.grad(depthwise_conv3x3(xk, w, 2), xk, grad)
    assert torch.equal(gw_alone, gw) and torch.equal(gx_alone, gx)


@pytest.mark.parametrize('threads', [1, 2])
def test_bitwise_repeatable_and_outputs_independent_of_the_thread_count(threads):
    x, w, grad = _case((8, 24, 13, 11), 1, seed=3)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = _kernel(x, w, grad, 1)
        torch.set_num_threads(threads)
        runs = [_kernel(x, w, grad, 1) for _ in range(2)]
    finally:
        torch.set_num_threads(before)
    assert all(torch.equal(a, b) for a, b in zip(*runs))
    # every output and input-gradient value is summed by one thread in tap order
    assert torch.equal(runs[0][0], one[0]) and torch.equal(runs[0][1], one[1])


def test_declines_what_it_does_not_cover():
    w = torch.randn(4, 1, 3, 3)
    cl = torch.randn(2, 4, 5, 5).contiguous(memory_format=torch.channels_last)
    for x, weight, stride in (
            (cl.double(), w.double(), 1),                       # not float32
            (torch.randn(2, 4, 5, 5), w, 1),                    # NCHW
            (cl, w, 3),                                         # stride 3
            (cl, torch.randn(4, 1, 5, 5), 1),                   # 5x5
            (cl, torch.randn(8, 1, 3, 3), 1),                   # depth multiplier 2
            (torch.randn(2, 4, 0, 5).contiguous(memory_format=torch.channels_last), w, 1)):
        assert depthwise_conv3x3(x, weight, stride) is None
