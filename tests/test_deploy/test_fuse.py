"""BN folding (no ONNX needed)."""
import pytest
import torch
from torch.nn.modules.batchnorm import _BatchNorm

from mnext_det import create_model
from mnext_det.deploy import fuse_conv_bn

from ..tolerances import assert_float32_close, depth_and_fan_in
from .bn_stats import random_bn


@pytest.mark.parametrize('multiplier', [1.0, 0.5])
def test_fuse_conv_bn_keeps_outputs_and_removes_every_bn(multiplier):
    model = random_bn(create_model('mobilenext_050', identity_tensor_multiplier=multiplier))
    torch.nn.init.normal_(model.classifier[1].weight, std=0.05)
    x = torch.randn(2, 3, 96, 96)
    depth, fan_in = depth_and_fan_in(model)
    with torch.no_grad():
        ref = model(x)
        fuse_conv_bn(model)
        out = model(x)
    assert not any(isinstance(m, _BatchNorm) for m in model.modules())
    assert ref.abs().max() > 0.1
    assert_float32_close(out, ref, depth, fan_in, what='folded classifier logits')


def test_fuse_conv_bn_folds_mmcv_conv_modules():
    pytest.importorskip('mmdet')
    from mmdet.models.backbones import MobileNetV2
    model = random_bn(MobileNetV2(out_indices=(7, )))
    x = torch.randn(1, 3, 64, 64)
    depth, fan_in = depth_and_fan_in(model)
    with torch.no_grad():
        ref = model(x)[0]
        fuse_conv_bn(model)
        out = model(x)[0]
    assert not any(isinstance(m, _BatchNorm) for m in model.modules())
    assert_float32_close(out, ref, depth, fan_in, what='folded MobileNetV2 features')


def test_fuse_conv_bn_refuses_training_mode():
    with pytest.raises(ValueError, match='eval mode'):
        fuse_conv_bn(create_model('mobilenext_050').train())
