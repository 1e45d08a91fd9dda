"""MergedParamGroupsConstructor: the paramwise rules of mmengine's default
constructor, in a few groups, and the same optimizer steps."""
import copy

import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.optim import build_optim_wrapper

import mnext_det.engine  # noqa: F401  (registers the constructor)
from mnext_det.engine import merge_param_groups
from mnext_det.models.factory import create_model

from ..tolerances import EPS32

_PARAMWISE = dict(norm_decay_mult=0., bias_decay_mult=0.)
_LR, _STEPS = 2e-3, 5


def _optim_cfg(constructor=None, **optimizer):
    cfg = dict(optimizer=dict(type='AdamW', lr=_LR, weight_decay=1e-4, **optimizer),
               paramwise_cfg=_PARAMWISE)
    if constructor:
        cfg['constructor'] = constructor
    return cfg


def _options_by_param(optimizer):
    return {id(p): (g['lr'], g['weight_decay']) for g in optimizer.param_groups
            for p in g['params']}


def _train(model, cfg):
    """``_STEPS`` AdamW steps with fixed gradients; the parameters after them."""
    optimizer = build_optim_wrapper(model, cfg).optimizer
    gen = torch.Generator().manual_seed(0)
    grads = [torch.randn(p.shape, generator=gen) for p in model.parameters()]
    for _ in range(_STEPS):
        for p, g in zip(model.parameters(), grads):
            p.grad = g.clone()
        optimizer.step()
    return [p.detach().clone() for p in model.parameters()]


def test_merge_keeps_first_appearance_order_and_every_param():
    a, b, c = (torch.nn.Parameter(torch.zeros(1)) for _ in range(3))
    merged = merge_param_groups([dict(params=[a], lr=1.0, weight_decay=0.1),
                                 dict(params=[b], lr=1.0, weight_decay=0.0),
                                 dict(params=[c], lr=1.0, weight_decay=0.1)])
    assert [[id(p) for p in g['params']] for g in merged] == [[id(a), id(c)], [id(b)]]
    assert [g['weight_decay'] for g in merged] == [0.1, 0.0]


def test_same_options_per_parameter_in_two_groups():
    model = create_model('mobilenext_035', num_classes=5)
    default = build_optim_wrapper(model, _optim_cfg()).optimizer
    merged = build_optim_wrapper(model, _optim_cfg('MergedParamGroupsConstructor')).optimizer
    assert len(default.param_groups) == len(list(model.parameters()))
    assert len(merged.param_groups) == 2  # with and without weight decay
    assert _options_by_param(merged) == _options_by_param(default)
    no_decay = {id(p) for g in merged.param_groups if g['weight_decay'] == 0 for p in g['params']}
    assert no_decay == {id(p) for n, p in model.named_parameters() if p.ndim == 1}


def test_merged_steps_equal_default_steps():
    model = create_model('mobilenext_035', num_classes=5)
    ref = _train(copy.deepcopy(model), _optim_cfg())
    out = _train(copy.deepcopy(model), _optim_cfg('MergedParamGroupsConstructor'))
    for a, b in zip(out, ref):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize('kernel', ['foreach', 'fused'])
def test_vectorised_kernels_on_merged_groups_match(kernel):
    """Each AdamW step rounds about 8 times: ``|p|`` twice (decay, update) and
    the step ``lr * m / (sqrt(v) + eps)`` (of size <= lr with constant
    gradients) six times; the errors of ``_STEPS`` steps add at most linearly."""
    model = create_model('mobilenext_035', num_classes=5)
    ref = _train(copy.deepcopy(model), _optim_cfg())
    out = _train(copy.deepcopy(model), _optim_cfg('MergedParamGroupsConstructor',
                                                  **{kernel: True}))
    for a, b in zip(out, ref):
        bound = _STEPS * EPS32 * (2 * float(b.abs().max()) + 6 * _LR)
        assert float((a - b).abs().max()) <= bound


def test_groups_are_plain_dicts_that_torch_compile_steps_through():
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1), torch.nn.BatchNorm2d(4))
    cfg = ConfigDict(_optim_cfg('MergedParamGroupsConstructor', fused=True))  # as from a file
    wrapper = build_optim_wrapper(model, cfg)
    assert [type(g) for g in wrapper.optimizer.param_groups] == [dict, dict]
    ref = copy.deepcopy(model)
    ref_optim = build_optim_wrapper(ref, cfg)
    torch._dynamo.reset()
    step = torch.compile(wrapper.optimizer.step)  # raised on mmengine's ConfigDict groups
    for m, run in ((model, step), (ref, ref_optim.optimizer.step)):
        for p in m.parameters():
            p.grad = torch.ones_like(p)
        run()
    for a, b in zip(model.parameters(), ref.parameters()):
        torch.testing.assert_close(a, b)
