"""MobileNeXt backbone: structure, exactness against the authors' network,
taps, freezing and argument checks, over every published width, and property-based
checks (hypothesis) of its constructor arguments."""
import math

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch.nn.modules.batchnorm import _BatchNorm

from mnext_det.models import MobileNeXt, create_model
from mnext_det.models.backbones.mobilenext import NUM_LAYERS
from mnext_det.models.layers import make_divisible

from ..conftest import MODEL_NAMES, WIDTHS
from ..official_mnext import OfficialMobileNeXt
from ..tolerances import assert_float32_close, depth_and_fan_in

# Width 1.0 layer table of the reference: (branch, in, out, hidden, stride, shortcut)
TABLE_100 = [
    ('A', 32, 96, 16, 2, False), ('D', 96, 144, 32, 1, False),
    ('C', 144, 192, 32, 2, False), ('D', 192, 192, 32, 1, True), ('D', 192, 192, 32, 1, True),
    ('C', 192, 288, 48, 2, False), ('D', 288, 288, 48, 1, True), ('D', 288, 288, 48, 1, True),
    ('B', 288, 384, 64, 1, False), ('D', 384, 384, 64, 1, True), ('D', 384, 384, 64, 1, True),
    ('D', 384, 384, 64, 1, True),
    ('C', 384, 576, 96, 2, False), ('D', 576, 576, 96, 1, True), ('D', 576, 576, 96, 1, True),
    ('D', 576, 576, 96, 1, True),
    ('B', 576, 960, 160, 1, False), ('D', 960, 960, 160, 1, True), ('D', 960, 960, 160, 1, True),
    ('D', 960, 1280, 208, 1, False),
]
PARAMS = {0.35: 1_913_976, 0.5: 2_152_304, 0.75: 2_766_168, 1.0: 3_535_416, 1.4: 6_126_168}
STAGE_CH = [96, 144, 192, 192, 192, 288, 288, 288, 384, 384, 384, 384, 576, 576, 576, 576,
            960, 960, 960, 1280]


def _expected_channels(width):
    out = []
    for c in STAGE_CH:
        ch = make_divisible(c * width, 8)
        out.append(1280 if c == 1280 and width < 1 else ch)
    return out


def test_width_100_layer_table():
    net = MobileNeXt()
    rows = [(b.branch, b.in_channels, b.out_channels, b.hidden_channels, b.stride,
             b.use_shortcut) for b in net.features[1:]]
    assert rows == TABLE_100


@pytest.mark.parametrize('name', MODEL_NAMES)
def test_multiply_adds_equal_official(name):
    # the authors' README rounds its own counter's figures (80/110/210/300/590 M)
    from mnext_det.analysis import count_madds
    model = create_model(name)
    official = OfficialMobileNeXt(width_mult=model.backbone.widen_factor)
    assert count_madds(model) == count_madds(official) > 7e7


@pytest.mark.parametrize('width', WIDTHS)
def test_channels_strides_hidden_per_width(width):
    net = MobileNeXt(widen_factor=width, out_indices=range(NUM_LAYERS))
    assert net.features[0][0].out_channels == make_divisible(32 * width, 8)
    expected = _expected_channels(width)
    assert [b.out_channels for b in net.features[1:]] == expected
    for block, (branch, *_rest, stride, shortcut) in zip(net.features[1:], TABLE_100):
        assert block.branch == branch
        assert block.stride == stride
        assert block.use_shortcut == shortcut
        hidden = block.in_channels // (2 if branch == 'A' else 6)
        if hidden < block.out_channels / 6:
            hidden = make_divisible(math.ceil(block.out_channels / 6), 16)
        assert block.hidden_channels == hidden
    outs = net(torch.randn(1, 3, 64, 64))
    strides = [2, 4, 4, 8, 8, 8, 16, 16, 16, 16, 16, 16, 16, 32, 32, 32, 32, 32, 32, 32, 32]
    assert [o.shape[1] for o in outs] == [net.features[0][0].out_channels] + expected
    assert [64 // o.shape[2] for o in outs] == strides
    assert [i['reduction'] for i in net.feature_info] == strides


@pytest.mark.parametrize('name', MODEL_NAMES)
def test_parameter_counts_equal_official(name):
    model = create_model(name)
    width = model.backbone.widen_factor
    assert sum(p.numel() for p in model.parameters()) == PARAMS[width]
    official = OfficialMobileNeXt(width_mult=width)
    assert sum(p.numel() for p in official.parameters()) == PARAMS[width]


@pytest.mark.parametrize('width', WIDTHS)
@pytest.mark.parametrize('div', [1, 2, 4])
def test_logits_match_official_network(width, div):
    official = OfficialMobileNeXt(width_mult=width, identity_div=div).eval()
    for m in official.modules():  # non-trivial BN statistics
        if isinstance(m, _BatchNorm):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
    ours = create_model(f'mobilenext_{round(width * 100):03d}',
                        identity_tensor_multiplier=1 / div).eval()
    official_sd = official.state_dict()
    # Our backbone keys are the official ones under ``backbone.``.
    assert {k[len('backbone.'):] for k in ours.state_dict() if k.startswith('backbone.')} == \
        {k for k in official_sd if k.startswith('features.')}
    ours.load_state_dict({('backbone.' + k if k.startswith('features.') else k): v
                          for k, v in official_sd.items()})
    x = torch.randn(2, 3, 96, 96)
    with torch.no_grad():
        assert_float32_close(ours(x), official(x), *depth_and_fan_in(ours),
                             what='logits vs the official network')


def test_official_key_names():
    keys = set(MobileNeXt().state_dict())
    assert 'features.0.0.weight' in keys and 'features.0.1.running_var' in keys
    for j in (0, 3, 5, 8):  # branch A / D convs
        assert f'features.1.conv.{j}.weight' in keys and f'features.4.conv.{j}.weight' in keys
    for j in (0, 2, 5):  # branch C
        assert f'features.3.conv.{j}.weight' in keys
    assert {k for k in keys if k.startswith('features.9.conv.') and k.endswith('.weight')} == {
        'features.9.conv.0.weight', 'features.9.conv.1.weight', 'features.9.conv.2.weight',
        'features.9.conv.3.weight'}


@pytest.mark.parametrize('width', WIDTHS)
def test_ssdlite_taps_at_320(width):
    net = MobileNeXt(widen_factor=width, tap_indices=(13, 20), out_indices=(20, ))
    tap13, tap20, out20 = net(torch.randn(1, 3, 320, 320))
    ch576 = make_divisible(576 * width, 8)
    ch1280 = 1280 if width < 1 else make_divisible(1280 * width, 8)
    assert tap13.shape == (1, ch576, 20, 20)
    assert tap20.shape == (1, ch1280, 10, 10)
    assert out20.shape == (1, ch1280, 10, 10)
    assert [(i['num_chs'], i['reduction']) for i in net.feature_info] == [
        (ch576, 16), (ch1280, 32), (ch1280, 32)]
    # the tap is the ReLU6 output before the last depthwise conv
    assert tap13.min() >= 0 and tap13.max() <= 6
    assert net.feature_info[0]['module'] == 'features.13.conv.4'


def test_tap_on_layer_without_depthwise_is_refused():
    with pytest.raises(ValueError, match='tap_indices'):
        MobileNeXt(tap_indices=(9, ))


def test_forward_stops_at_last_requested_layer():
    net = MobileNeXt(out_indices=(3, ))
    (out, ) = net(torch.randn(1, 3, 64, 64))
    assert out.shape == (1, 192, 8, 8)


def test_shortcut_placement_changes_output():
    net = MobileNeXt().eval()
    block = net.features[4]
    x = torch.randn(1, 192, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(block(x), block.conv(x) + x)
        no_shortcut = net.features[2]
        y = torch.randn(1, 96, 8, 8)
        torch.testing.assert_close(no_shortcut(y), no_shortcut.conv(y))


@pytest.mark.parametrize('mult,expected', [(1.0, 192), (0.5, 96), (1 / 3, 64), (0.25, 48)])
def test_identity_tensor_multiplier(mult, expected):
    net = MobileNeXt(identity_tensor_multiplier=mult).eval()
    block = net.features[4]
    assert block.identity_channels == expected
    x = torch.randn(1, 192, 8, 8)
    with torch.no_grad():
        out = block(x)
        ref = block.conv(x)
    torch.testing.assert_close(out[:, :expected], ref[:, :expected] + x[:, :expected])
    torch.testing.assert_close(out[:, expected:], ref[:, expected:])


def test_partial_shortcut_backward():
    net = MobileNeXt(identity_tensor_multiplier=0.5, out_indices=(8, ))
    x = torch.randn(2, 3, 64, 64, requires_grad=True)
    net(x)[0].sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_frozen_stages():
    net = MobileNeXt(frozen_stages=3)
    net.train()
    for i, layer in enumerate(net.features):
        frozen = i <= 3
        assert all(p.requires_grad != frozen for p in layer.parameters())
        assert all(m.training != frozen for m in layer.modules())


def test_norm_eval():
    net = MobileNeXt(norm_eval=True)
    net.train()
    assert all(not m.training for m in net.modules() if isinstance(m, _BatchNorm))
    assert net.features[5].conv[0].training
    net = MobileNeXt(norm_eval=False).train()
    assert all(m.training for m in net.modules() if isinstance(m, _BatchNorm))


def test_norm_cfg_and_act_cfg():
    net = MobileNeXt(norm_cfg=dict(type='BN', eps=1e-3, momentum=0.03),
                     act_cfg=dict(type='ReLU'))
    bn = net.features[0][1]
    assert bn.eps == 1e-3 and bn.momentum == 0.03
    assert isinstance(net.features[0][2], torch.nn.ReLU)
    with pytest.raises(ValueError, match='norm_cfg'):
        MobileNeXt(norm_cfg=dict(type='LN'))
    with pytest.raises(ValueError, match='act_cfg'):
        MobileNeXt(act_cfg=dict(type='Mish3'))


def test_with_cp_same_result_and_grads():
    torch.manual_seed(0)
    a = MobileNeXt(out_indices=(6, ))
    b = MobileNeXt(out_indices=(6, ), with_cp=True)
    b.load_state_dict(a.state_dict())
    x = torch.randn(2, 3, 64, 64, requires_grad=True)
    a(x)[0].sum().backward()
    ga = a.features[4].conv[3].weight.grad.clone()
    b(x)[0].sum().backward()
    torch.testing.assert_close(b.features[4].conv[3].weight.grad, ga)


@pytest.mark.parametrize('kwargs,match', [
    (dict(widen_factor=0), 'widen_factor'),
    (dict(widen_factor=-1.0), 'widen_factor'),
    (dict(widen_factor=float('inf')), 'finite'),
    (dict(identity_tensor_multiplier=0), r'identity_tensor_multiplier must be in \(0, 1\]'),
    (dict(identity_tensor_multiplier=1.5), r'identity_tensor_multiplier must be in \(0, 1\]'),
    (dict(out_indices=(21, )), r'out_indices .*\[0, 20\]'),
    (dict(out_indices=(-1, )), r'out_indices .*\[0, 20\]'),
    (dict(out_indices=20), r'out_indices must be a list or tuple .*e\.g\. \(20, \), got 20'),
    (dict(tap_indices=13), r'tap_indices must be a list or tuple'),
    (dict(frozen_stages=21), r'frozen_stages .*\[-1, 20\]'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MobileNeXt(**kwargs)


@pytest.mark.parametrize('width', [0.1, 0.2, 1.1, 2.0])
def test_other_widths_build_and_run(width):
    net = MobileNeXt(widen_factor=width, out_indices=(20, ))
    (out, ) = net(torch.randn(1, 3, 64, 64))
    assert out.shape[2:] == (2, 2)
    assert out.shape[1] == net.out_channels


indices = st.lists(st.integers(-2, NUM_LAYERS + 1), max_size=3)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(widen_factor=st.one_of(st.floats(-0.5, 1.0, allow_nan=False), st.just('1.0')),
       identity=st.floats(-0.2, 1.2, allow_nan=False),
       out_indices=indices, tap_indices=indices, frozen_stages=st.integers(-3, NUM_LAYERS + 1))
def test_backbone_arguments_build_a_consistent_network_or_fail_clearly(
        widen_factor, identity, out_indices, tap_indices, frozen_stages):
    try:
        net = MobileNeXt(widen_factor=widen_factor, identity_tensor_multiplier=identity,
                         out_indices=out_indices, tap_indices=tap_indices,
                         frozen_stages=frozen_stages).eval()
    except ValueError as e:
        msg = str(e)
        assert any(arg in msg for arg in ('widen_factor', 'identity_tensor_multiplier',
                                          'out_indices', 'tap_indices', 'frozen_stages'))
        return
    assert isinstance(widen_factor, float) and widen_factor > 0 and 0 < identity <= 1
    assert set(out_indices) | set(tap_indices) and -1 <= frozen_stages < NUM_LAYERS
    with torch.no_grad():
        outs = net(torch.randn(1, 3, 64, 64))
    info = net.feature_info
    assert len(outs) == len(info) == len(set(out_indices)) + len(set(tap_indices))
    for out, fi in zip(outs, info):
        assert out.shape[1] == fi['num_chs']
        assert out.shape[2] == math.ceil(64 / fi['reduction'])
        assert torch.isfinite(out).all()
    frozen = [p.requires_grad for layer in net.features[:frozen_stages + 1]
              for p in layer.parameters()]
    assert not any(frozen)


def test_nan_widen_factor_names_the_argument():
    with pytest.raises(ValueError) as e:
        MobileNeXt(widen_factor=float('nan'))
    assert 'widen_factor' in str(e.value), str(e.value)
