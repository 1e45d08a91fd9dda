"""mnext_det/ops/batch_norm_act.py: the fused training batch norm (+ ReLU6)
against torch's batch norm computed in float64.

Tolerance from the arithmetic: the kernel sums at most 256 float32 values
(x minus the channel's first value) before adding the partial sum in float64,
so a channel's mean and variance carry a relative error of at most about
256 * 2**-24 = 1.5e-5 of the channel's spread, and each output is a few float
operations more; 1e-4 of the output's scale bounds both with room. The
ReLU6 mask is the kernel's own (where a pre-activation lies within rounding
of 0 or 6 either side is right), so the float64 reference back-propagates
through the same mask and the mask itself is checked away from the edges;
that backward's mask, recomputed from the input, is forward's clip is checked
bitwise.
"""
import os
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from mnext_det.ops import batch_norm_act, load_extension

TOL = 1e-4
SHAPES = [(8, 96, 20, 20), (8, 8, 40, 40), (4, 72, 9, 7), (2, 1280, 5, 5), (3, 7, 1, 1)]


@pytest.fixture(scope='module', autouse=True)
def extension():
    load_extension(required=True)


def _inputs(shape, channels_last, seed=0):
    gen = torch.Generator().manual_seed(seed)
    c = shape[1]
    # channel means far from zero against their spread, as after a conv with bias
    x = torch.randn(shape, generator=gen) * (torch.rand(c, generator=gen) * 3 + 0.1).view(
        1, c, 1, 1) + (torch.randn(c, generator=gen) * 20).view(1, c, 1, 1)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    return (x, torch.rand(c, generator=gen) * 2 + 0.5, torch.randn(c, generator=gen) * 2,
            torch.randn(c, generator=gen), torch.rand(c, generator=gen) + 0.5,
            torch.randn(shape, generator=gen))


def _scale(t):
    return max(t.abs().max().item(), 1e-6)


@pytest.mark.parametrize('threads', [1, 2])
@pytest.mark.parametrize('channels_last', [True, False])
@pytest.mark.parametrize('relu6', [True, False])
@pytest.mark.parametrize('shape', SHAPES)
def test_matches_float64_batch_norm(shape, channels_last, relu6, threads):
    x, w, b, rm, rv, g = _inputs(shape, channels_last)
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        xf, wf, bf = (t.clone().requires_grad_() for t in (x, w, b))
        rmf, rvf = rm.clone(), rv.clone()
        y = batch_norm_act(xf, wf, bf, rmf, rvf, 0.03, 1e-3, relu6)
        y.backward(g)
    finally:
        torch.set_num_threads(previous)
    assert y.is_contiguous(memory_format=torch.channels_last if channels_last
                           else torch.contiguous_format)
    xd, wd, bd = (t.double().requires_grad_() for t in (x, w, b))
    rmd, rvd = rm.double(), rv.double()
    pre = F.batch_norm(xd, rmd, rvd, wd, bd, training=True, momentum=0.03, eps=1e-3)
    ref = pre.clamp(0, 6) if relu6 else pre
    assert (y.double() - ref).abs().max() <= TOL * _scale(ref)
    if relu6:
        # the kernel's mask equals float64's wherever the input is not within 1e-3 of an edge
        clear = ((pre - 0).abs() > 1e-3) & ((pre - 6).abs() > 1e-3)
        assert torch.equal(((y > 0) & (y < 6))[clear], ((pre > 0) & (pre < 6))[clear])
        pre = pre * ((y > 0) & (y < 6)).double()  # back-propagate through the kernel's mask
    pre.backward(g.double())
    for got, want in ((xf.grad, xd.grad), (wf.grad, wd.grad), (bf.grad, bd.grad)):
        assert (got.double() - want).abs().max() <= TOL * _scale(want)
    for got, want in ((rmf, rmd), (rvf, rvd)):
        assert (got.double() - want).abs().max() <= TOL * _scale(want)


@pytest.mark.parametrize('channels_last', [True, False])
def test_backward_masks_where_forward_clipped(channels_last):
    """Backward recomputes the pre-activation from the input for ReLU6's mask;
    it must be forward's clip exactly, also where the pre-activation is a
    rounding residual next to 0: the gradient equals the plain batch norm's
    gradient of the incoming one zeroed where the output is 0 or 6."""
    gen = torch.Generator().manual_seed(0)
    shape = (8, 64, 10, 10)
    x = torch.randint(-1, 3, shape, generator=gen).float()  # a quarter of the values are 0
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    w, g = torch.rand(64, generator=gen) + 0.5, torch.randn(shape, generator=gen)
    _, mean, _, scale = load_extension(required=True).batch_norm_act_forward(
        x, w, torch.zeros(64), torch.zeros(64), torch.ones(64), 0.1, 1e-3, False,
        channels_last)
    b = mean * scale  # the pre-activation of x = 0 is fma(-mean, scale, b): its rounding error
    xr = x.clone().requires_grad_()
    y = batch_norm_act(xr, w, b, torch.zeros(64), torch.ones(64), 0.1, 1e-3, True)
    y.backward(g)
    kept = (y > 0) & (y < 6)
    at_edge = y[x == 0]
    assert (at_edge > 0).any() and (at_edge == 0).any()  # residuals of both signs
    xp = x.clone().requires_grad_()
    batch_norm_act(xp, w, b, torch.zeros(64), torch.ones(64), 0.1, 1e-3, False).backward(
        g * kept)
    assert torch.equal(xr.grad, xp.grad)


def test_bitwise_repeatable_at_a_thread_count():
    x, w, b, rm, rv, g = _inputs((8, 48, 16, 16), True)
    runs = []
    for _ in range(2):
        xf = x.clone().requires_grad_()
        y = batch_norm_act(xf, w, b, rm.clone(), rv.clone(), 0.1, 1e-5, True)
        y.backward(g)
        runs.append((y, xf.grad))
    assert all(torch.equal(a, b) for a, b in zip(*runs))


def test_declines_what_it_does_not_cover():
    _, w, b, rm, rv, _ = _inputs((2, 4, 3, 3), False)
    for x in (torch.randn(2, 4, 3, 3, dtype=torch.float64),  # not float32
              torch.randn(2, 4, 9),                          # not 4-d
              torch.randn(1, 4, 1, 1),                       # one value per channel
              torch.randn(2, 4, 3, 6)[..., ::2]):             # neither layout
        assert batch_norm_act(x, w, b, rm, rv, 0.1, 1e-5, False) is None


def test_without_a_compiler_training_warns_once_and_runs_torchs_ops(tmp_path):
    script = ('import warnings, torch\n'
              'from torch import nn\n'
              'from mnext_det.engine import depthwise_as_kernel, fuse_batch_norm\n'
              'm = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8),\n'
              '                  nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False))\n'
              'fuse_batch_norm(m)\n'
              'depthwise_as_kernel(m)\n'
              'm = m.to(memory_format=torch.channels_last)\n'
              'x = torch.randn(2, 3, 8, 8).contiguous(memory_format=torch.channels_last)\n'
              'with warnings.catch_warnings(record=True) as caught:\n'
              '    warnings.simplefilter("always")\n'
              '    for _ in range(2):\n'
              '        m.train()(x).sum().backward()\n'
              'print([str(w.message) for w in caught\n'
              '       if "compiled CPU kernels" in str(w.message)])\n')
    env = dict(os.environ, PATH=str(tmp_path / 'empty'), TORCH_EXTENSIONS_DIR=str(tmp_path))
    res = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                         env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.count('compiled CPU kernels unavailable') == 1
    # the reason: no ninja, or (with the pip package's ninja) no compiler
    assert 'not built (RuntimeError: ' in res.stdout
    assert 'Ninja is required' in res.stdout or 'not found' in res.stdout
