"""InplaceReLU6: the same outputs and gradients as nn.ReLU6, one in-place op under
autograd, torch's own path everywhere else, and every config built with it."""
import pytest
import torch
import torch.nn as nn
from mmengine.registry import MODELS
from torch.profiler import profile

from mnext_det.models import MobileNeXt
from mnext_det.models.activations import InplaceReLU6


def _inputs(channels_last: bool) -> torch.Tensor:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 5, 6, 7, generator=gen) * 5
    x[0, 0, 0, :3] = torch.tensor([0., 6., -0.])  # the clip's edges
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


@pytest.mark.parametrize('channels_last', [False, True])
def test_outputs_and_gradients_are_bit_equal_to_relu6(channels_last):
    x = _inputs(channels_last)
    grads, outs = [], []
    for act in (nn.ReLU6(inplace=True), InplaceReLU6()):
        w = torch.ones(1, 5, 1, 1, requires_grad=True)
        y = act(x * w)  # in place on a non-leaf, as after a BN
        g = torch.randn(y.shape, generator=torch.Generator().manual_seed(1))
        y.backward(g)
        outs.append(y.detach())
        grads.append(w.grad)
    assert torch.equal(outs[0], outs[1]) and torch.equal(grads[0], grads[1])
    assert outs[1].is_contiguous(memory_format=torch.channels_last) == channels_last


def test_autograd_path_is_one_in_place_clamp_without_copies():
    x = torch.randn(2, 4, 5, 5, requires_grad=True)
    y = x * 1.
    with profile() as prof:
        out = InplaceReLU6()(y)
    ops = {e.key for e in prof.key_averages()}
    assert out.data_ptr() == y.data_ptr()
    assert 'aten::clamp_' in ops and not ops & {'aten::clone', 'aten::copy_', 'aten::hardtanh'}
    y = x * 1.
    with profile() as prof:
        nn.ReLU6(inplace=True)(y)
    assert 'aten::clone' in {e.key for e in prof.key_averages()}  # what it avoids


def test_gradcheck_in_double_precision():
    x = (torch.rand(2, 3, 4, 4, dtype=torch.float64) * 8 - 1).requires_grad_()
    assert torch.autograd.gradcheck(lambda t: InplaceReLU6()(t * 1.), (x, ))


def test_falls_back_to_torch_outside_autograd_on_views_and_when_not_in_place():
    x = torch.randn(2, 3, 4, 4) * 5
    ref = nn.functional.relu6(x)
    y = x.clone()
    assert InplaceReLU6()(y) is y and torch.equal(y, ref)  # no autograd: plain in place
    out = InplaceReLU6(inplace=False)(x)
    assert torch.equal(out, ref) and not torch.equal(x, ref)
    w = torch.ones(1, 3, 1, 1, requires_grad=True)
    base = x * w
    view = base[:, 1:]
    InplaceReLU6()(view).sum().backward()  # torch's own path on a view
    inside = (x[:, 1:] > 0) & (x[:, 1:] < 6)
    torch.testing.assert_close(w.grad.flatten()[1:], (x[:, 1:] * inside).sum((0, 2, 3)))
    assert w.grad[0, 0, 0, 0] == 0


def test_exported_graph_holds_a_plain_clip():
    model = nn.Sequential(nn.Conv2d(3, 4, 1), InplaceReLU6())
    exported = torch.export.export(model, (torch.randn(1, 3, 4, 4), ))
    ops = {str(n.target) for n in exported.graph.nodes if n.op == 'call_function'}
    assert ops == {'aten.conv2d.default', 'aten.hardtanh_.default'}


def test_builds_from_the_registry_as_mmcv_convmodule_does():
    act = MODELS.build(dict(type='InplaceReLU6', inplace=True))
    assert isinstance(act, nn.ReLU6) and act.inplace


def test_mobilenext_trains_identically_with_either_relu6():
    outs = []
    for act in ('ReLU6', 'InplaceReLU6'):
        torch.manual_seed(0)
        model = MobileNeXt(widen_factor=0.35, act_cfg=dict(type=act)).train()
        assert {type(m) for m in model.modules() if isinstance(m, nn.ReLU6)} == {
            nn.ReLU6 if act == 'ReLU6' else InplaceReLU6}
        out = model(torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1)))[0]
        out.square().mean().backward()
        outs.append([out.detach()] + [p.grad for p in model.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(*outs))
