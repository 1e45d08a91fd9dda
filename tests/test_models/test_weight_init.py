"""ZeroInitResidual: one init_cfg entry makes every identity-shortcut block of
MobileNeXt and of mmdet's MobileNetV2 start as the identity."""
import pytest
import torch
from mmengine.model.weight_init import initialize
from torch.nn.modules.batchnorm import _BatchNorm

from mnext_det import MobileNeXt
from mnext_det.models.weight_init import has_identity_shortcut, last_norm

INIT = [dict(type='TruncNormal', layer='Conv2d', std=0.03), dict(type='ZeroInitResidual')]


def _check_identity_blocks(blocks, expected):
    shortcut = [b for b in blocks if has_identity_shortcut(b)]
    assert len(shortcut) == expected
    for block in shortcut:
        assert torch.count_nonzero(last_norm(block).weight) == 0
        block.train()
        x = torch.randn(2, last_norm(block).num_features, 10, 10)
        # the identity, exactly; a partial identity tensor passes its first channels
        k = getattr(block, 'identity_channels', x.shape[1])
        expected = torch.cat([x[:, :k], torch.zeros_like(x[:, k:])], dim=1)
        torch.testing.assert_close(block(x), expected, rtol=0, atol=0)
    for block in blocks:
        if not has_identity_shortcut(block):
            norms = [m for m in block.modules() if isinstance(m, _BatchNorm)]
            assert all(torch.count_nonzero(n.weight) == n.num_features for n in norms)


@pytest.mark.parametrize('multiplier', [1.0, 0.5])
def test_mobilenext_shortcut_blocks_start_as_identity(multiplier):
    net = MobileNeXt(widen_factor=0.5, identity_tensor_multiplier=multiplier, init_cfg=INIT)
    net.init_weights()
    # 12 shortcut blocks: layers 4-5, 7-8, 10-12, 14-16, 18-19
    _check_identity_blocks(list(net.features)[1:], expected=12)
    convs = torch.cat([m.weight.detach().flatten() for m in net.modules()
                       if isinstance(m, torch.nn.Conv2d)])
    assert abs(float(convs.std()) - 0.03) < 0.003  # TruncNormal(std 0.03) ran first


def test_mmdet_mobilenetv2_gets_the_same_rule():
    pytest.importorskip('mmdet')
    from mmdet.models.backbones import MobileNetV2
    from mmdet.models.layers import InvertedResidual
    net = MobileNetV2(widen_factor=0.5, out_indices=(4, 7), init_cfg=INIT)
    net.init_weights()
    blocks = [m for m in net.modules() if isinstance(m, InvertedResidual)]
    _check_identity_blocks(blocks, expected=10)  # 17 blocks, 10 with a shortcut


def test_torchvision_mobilenetv2_gets_the_same_rule():
    from torchvision.models import mobilenet_v2
    from torchvision.models.mobilenetv2 import InvertedResidual
    net = mobilenet_v2()
    initialize(net, dict(type='ZeroInitResidual'))
    blocks = [m for m in net.modules() if isinstance(m, InvertedResidual)]
    assert sum(has_identity_shortcut(b) for b in blocks) == 10
    assert all(torch.count_nonzero(last_norm(b).weight) == 0 for b in blocks
               if has_identity_shortcut(b))


def test_a_module_without_shortcuts_is_an_error():
    with pytest.raises(ValueError, match='no block with an identity shortcut'):
        initialize(torch.nn.Sequential(torch.nn.Conv2d(3, 3, 1), torch.nn.BatchNorm2d(3)),
                   dict(type='ZeroInitResidual'))


def test_pretrained_weights_win_over_zero_init(tmp_path):
    src = MobileNeXt(widen_factor=0.5)
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in src.state_dict().items()}},
               tmp_path / 'ckpt.pth')
    net = MobileNeXt(widen_factor=0.5, init_cfg=INIT + [dict(
        type='Pretrained', checkpoint=str(tmp_path / 'ckpt.pth'), prefix='backbone.')])
    net.init_weights()
    torch.testing.assert_close(net.features[4].conv[9].weight, src.features[4].conv[9].weight)
