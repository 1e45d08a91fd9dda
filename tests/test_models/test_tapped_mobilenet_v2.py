"""TappedMobileNetV2: mmdet's MobileNetV2 with the same parameters and outputs,
plus the expansion of a layer's first block (SSDLite's original tap)."""
import pytest
import torch
from mmdet.models.backbones import MobileNetV2
from mmdet.registry import MODELS

import mnext_det.detection  # noqa: F401  (registers TappedMobileNetV2)
from mnext_det.models.backbones.tapped_mobilenet_v2 import TappedMobileNetV2


def _pair(**kwargs):
    torch.manual_seed(0)
    tapped = TappedMobileNetV2(**kwargs)
    plain = MobileNetV2(out_indices=kwargs.get('out_indices', (1, 2, 4, 7)),
                        widen_factor=kwargs.get('widen_factor', 1.0))
    plain.load_state_dict(tapped.state_dict())  # strict: the same parameter names
    for model in (tapped, plain):
        model.eval()
    return tapped, plain


@pytest.mark.parametrize('widen_factor, channels', [(1.0, 576), (0.5, 288)])
def test_the_ssdlite_tap_is_layer6s_expansion_before_its_stride_2_conv(widen_factor, channels):
    tapped, plain = _pair(out_indices=(4, 7), tap_indices=(5, ), widen_factor=widen_factor)
    x = torch.randn(2, 3, 160, 160)
    with torch.no_grad():
        out96, tap, out1280 = tapped(x)
        ref96, ref1280 = plain(x)
        expansion = plain.layer6[0].expand_conv(ref96)
    assert tap.shape == (2, channels, 10, 10) and out1280.shape == (2, 1280, 5, 5)
    assert torch.equal(out96, ref96) and torch.equal(out1280, ref1280)
    assert torch.equal(tap, expansion)


def test_taps_and_outputs_are_ordered_by_layer_and_stop_at_the_last_one():
    tapped, plain = _pair(out_indices=(2, ), tap_indices=(1, 3))
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        tap1, out2, tap3 = tapped(x)
        h = plain.layer1(plain.conv1(x))
        assert torch.equal(tap1, plain.layer2[0].expand_conv(h))
        h = plain.layer3(plain.layer2(h))
        assert torch.equal(out2, h) and torch.equal(tap3, plain.layer4[0].expand_conv(h))


def test_gradients_reach_the_tapped_block_and_the_tap():
    tapped = TappedMobileNetV2(out_indices=(7, ), tap_indices=(5, ), widen_factor=0.5)
    tapped.train()
    tap, out = tapped(torch.randn(2, 3, 64, 64))
    (tap.sum() + out.sum()).backward()
    block = tapped.layer6[0]
    for conv in (block.expand_conv, block.depthwise_conv, block.linear_conv):
        assert conv.conv.weight.grad is not None and conv.conv.weight.grad.abs().sum() > 0


@pytest.mark.parametrize('bad', [0, 7, -1, 2.0])
def test_a_tap_without_an_expansion_is_named(bad):
    with pytest.raises(ValueError, match=rf'tap_indices: {bad!r} is not a layer'):
        TappedMobileNetV2(tap_indices=(bad, ))


def test_registered_for_configs_and_frozen_stages_still_freeze():
    model = MODELS.build(dict(type='TappedMobileNetV2', out_indices=(7, ), frozen_stages=6))
    assert model.tap_indices == (5, )
    model.train()
    assert not any(p.requires_grad for p in model.layer6.parameters())
    assert not model.layer6[0].expand_conv.bn.training
