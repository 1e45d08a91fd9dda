"""FusedBatchNormHook: batch norm and its ReLU6 in one CPU kernel while
training; the same state_dict, eval outputs bit-identical, training outputs
and gradients within the float32 bound of torch's."""
import copy
from types import SimpleNamespace

import pytest
import torch
from mmengine.registry import HOOKS
from torch import nn

import mnext_det.engine  # noqa: F401  (registers the hook)
from mnext_det.engine import ClipInNorm, FusedBatchNormAct2d, fuse_batch_norm, to_channels_last
from mnext_det.models.activations import InplaceReLU6
from mnext_det.models.factory import create_model
from mnext_det.ops import load_extension

from ..tolerances import (TEST_SEED, assert_float32_close, assert_max_error, depth_and_fan_in,
                          float32_bound)


@pytest.fixture(scope='module', autouse=True)
def extension():
    load_extension(required=True)


def test_every_batch_norm_converted_and_only_an_inplace_relu6_after_it_moved():
    mmcv_cnn = pytest.importorskip('mmcv.cnn')
    seq = nn.Sequential(nn.Conv2d(3, 8, 1), nn.BatchNorm2d(8), InplaceReLU6(),  # moved
                        nn.BatchNorm2d(8), nn.ReLU6(inplace=True),              # torch's: kept
                        nn.BatchNorm2d(8), InplaceReLU6(inplace=False),         # not in place
                        nn.BatchNorm2d(8))                                       # last: alone
    conv_module = mmcv_cnn.ConvModule(8, 8, 3, padding=1, norm_cfg=dict(type='BN'),
                                      act_cfg=dict(type='InplaceReLU6'))
    reordered = mmcv_cnn.ConvModule(8, 8, 1, norm_cfg=dict(type='BN'),
                                    act_cfg=dict(type='InplaceReLU6'),
                                    order=('conv', 'act', 'norm'))
    model = nn.Sequential(seq, conv_module, reordered)
    assert fuse_batch_norm(model) == (6, 2)
    assert all(type(m) is not nn.BatchNorm2d for m in model.modules())
    assert [getattr(m, 'relu6', None) for m in seq] == [None, True, None, False, None, False,
                                                       None, False]
    assert type(seq[2]) is ClipInNorm and type(seq[4]) is nn.ReLU6
    assert conv_module.norm.relu6 and type(conv_module.activate) is ClipInNorm
    assert not reordered.norm.relu6 and type(reordered.activate) is InplaceReLU6


@pytest.mark.parametrize('channels_last', [False, True])
def test_mobilenext_trains_as_with_torchs_batch_norm_and_infers_bit_identically(channels_last):
    """Training outputs and running statistics within the float32 bound of
    torch's, and a batch fitted in a few steps. Gradients are compared with
    float64 at the op (tests/test_ops), not here: the batch norms of the last
    stage see 16 values per channel, where a change of 3e-5 in the block's
    input moves its input gradient by 1e-2, for torch's kernels as for these."""
    torch.manual_seed(TEST_SEED)
    ref = create_model('mobilenext_035', num_classes=5)
    if channels_last:
        to_channels_last(ref)
    model = copy.deepcopy(ref)
    HOOKS.build(dict(type='FusedBatchNormHook')).before_run(SimpleNamespace(model=model))
    assert sum(isinstance(m, FusedBatchNormAct2d) for m in model.modules()) == sum(
        isinstance(m, nn.BatchNorm2d) for m in ref.modules())
    assert any(isinstance(m, ClipInNorm) for m in model.modules())
    depth, fan_in = depth_and_fan_in(ref)
    x, labels = torch.randn(8, 3, 64, 64), torch.arange(8) % 5
    with torch.no_grad():
        assert torch.equal(model.eval()(x), ref.eval()(x))
    with torch.enable_grad():
        torch.manual_seed(1)  # the same dropout mask in both
        out = model.train()(x)
        torch.manual_seed(1)
        out_ref = ref.train()(x)
    assert_float32_close(out.detach(), out_ref.detach(), depth, fan_in, what='train logits')
    state, state_ref = model.state_dict(), ref.state_dict()
    for name in (n for n in state if n.endswith('running_var')):
        # a running mean's scale is its channel's spread, not its own size (it can be ~0)
        spread = state_ref[name].sqrt()
        for key in (name, name.replace('running_var', 'running_mean')):
            assert_max_error(state[key], state_ref[key], float32_bound(spread, depth, fan_in),
                             what=key)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(8):  # it fits the batch: the gradients descend
        loss = nn.functional.cross_entropy(model(x), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0], losses
    fresh = create_model('mobilenext_035', num_classes=5)
    fresh.load_state_dict(model.state_dict())  # strict: the same keys and shapes
    if channels_last:
        to_channels_last(fresh)
    with torch.no_grad():
        assert torch.equal(fresh.eval()(x), model.eval()(x))


def test_training_without_grad_runs_torchs_ops_bit_identically():
    torch.manual_seed(TEST_SEED)
    ref = create_model('mobilenext_035', num_classes=5).train()
    model = copy.deepcopy(ref)
    fuse_batch_norm(model)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.manual_seed(1)
        out = model(x)
        torch.manual_seed(1)
        assert torch.equal(out, ref(x))
    for a, b in zip(model.state_dict().values(), ref.state_dict().values()):
        assert torch.equal(a, b)  # running statistics updated alike


def test_single_value_per_channel_fails_as_torchs_batch_norm_does():
    bn = nn.BatchNorm2d(4)
    fuse_batch_norm(nn.Sequential(bn))
    with pytest.raises(ValueError, match='more than 1 value per channel'):
        bn.train()(torch.randn(1, 4, 1, 1, requires_grad=True))
