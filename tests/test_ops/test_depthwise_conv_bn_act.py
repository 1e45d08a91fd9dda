"""mnext_det/ops/depthwise_conv_bn_act.py: the depthwise conv and batch norm
(+ ReLU6) with one backward give bitwise what the two kernels give one after
the other (the conv's output gradient is computed by the same expression,
only never written), and decline what either kernel declines."""
import pytest
import torch

from mnext_det.ops import (batch_norm_act, depthwise_conv3x3, depthwise_conv3x3_bn_act,
                           load_extension)

# maps from 1x1 up, widths below, at and above a vector of 8, odd sizes for stride 2; the
# 40x40 and 80x80 maps take several stretches of rows per image
SHAPES = [(2, 5, 7, 9), (8, 13, 3, 4), (8, 24, 1, 1), (3, 24, 2, 2), (2, 16, 41, 40),
          (8, 48, 40, 40), (2, 8, 80, 80)]


@pytest.fixture(scope='module', autouse=True)
def extension():
    load_extension(required=True)


def _inputs(shape, seed=0):
    gen = torch.Generator().manual_seed(seed)
    c = shape[1]
    x = torch.randn(shape, generator=gen).contiguous(memory_format=torch.channels_last)
    return (x, torch.randn(c, 1, 3, 3, generator=gen),
            torch.rand(c, generator=gen) + 0.5, torch.randn(c, generator=gen))


def _run(fused, x, w, bn_w, bn_b, stride, relu6, wrt=(0, 1, 2, 3)):
    """Output, running statistics and the gradients with respect to the
    inputs named by ``wrt`` (x, w, bn_w, bn_b)."""
    tensors = [t.clone().requires_grad_(i in wrt) for i, t in enumerate((x, w, bn_w, bn_b))]
    xk, wk, bwk, bbk = tensors
    gen = torch.Generator().manual_seed(1)
    rm, rv = torch.randn(x.size(1), generator=gen), torch.rand(x.size(1), generator=gen) + 1
    if fused:
        out = depthwise_conv3x3_bn_act(xk, wk, stride, bwk, bbk, rm, rv, 0.1, 1e-5, relu6)
    else:
        out = batch_norm_act(depthwise_conv3x3(xk, wk, stride), bwk, bbk, rm, rv, 0.1, 1e-5,
                             relu6)
    grad = torch.randn(out.shape, generator=gen).contiguous(memory_format=torch.channels_last)
    return (out, rm, rv) + torch.autograd.grad(out, [tensors[i] for i in wrt], grad)


@pytest.mark.parametrize('threads', [1, 2])
@pytest.mark.parametrize('relu6', [False, True])
@pytest.mark.parametrize('stride', [1, 2])
@pytest.mark.parametrize('shape', SHAPES)
def test_bitwise_the_two_kernels_one_after_the_other(shape, stride, relu6, threads):
    inputs = _inputs(shape)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(threads)
        fused = _run(True, *inputs, stride, relu6)
        pair = _run(False, *inputs, stride, relu6)
    finally:
        torch.set_num_threads(before)
    assert fused[0].grad_fn.name() == '_DepthwiseConvBnActBackward'
    assert fused[3].is_contiguous(memory_format=torch.channels_last)
    names = ('output', 'running mean', 'running var', 'input grad', 'weight grad',
             'bn weight grad', 'bn bias grad')
    for name, a, b in zip(names, fused, pair):
        assert torch.equal(a, b), name


def test_input_gradient_alone_equals_it_computed_with_the_others():
    inputs = _inputs((2, 16, 9, 7))
    full = _run(True, *inputs, 2, True)
    alone = _run(True, *inputs, 2, True, wrt=(0, ))
    assert torch.equal(alone[3], full[3])


def test_declines_what_either_kernel_declines():
    x, w, bn_w, bn_b = _inputs((2, 4, 5, 5))
    stats = (torch.zeros(4), torch.ones(4))
    one_value = torch.randn(1, 4, 1, 1).contiguous(memory_format=torch.channels_last)
    for args in ((x.contiguous(), w, 1, bn_w, bn_b, *stats),        # NCHW
                 (x, w, 3, bn_w, bn_b, *stats),                     # stride 3
                 (x, w, 1, None, None, *stats),                     # no affine parameters
                 (x, w, 1, bn_w, bn_b, None, None),                 # no running statistics
                 (one_value, w, 2, bn_w, bn_b, *stats)):            # one value per channel
        assert depthwise_conv3x3_bn_act(*args, 0.1, 1e-5, False) is None
