"""BN folding and the numpy SSD post-processing (no ONNX needed)."""
import numpy as np
import pytest
import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from mnext_det import create_model
from mnext_det.deploy import batched_nms, fuse_conv_bn, nms, ssd_postprocess

from .tolerances import TEST_SEED, assert_float32_close, depth_and_fan_in


def _random_bn(model: nn.Module) -> nn.Module:
    g = torch.Generator().manual_seed(TEST_SEED)
    for m in model.modules():
        if isinstance(m, _BatchNorm):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=g) * 0.1)
    model.eval()
    return model


@pytest.mark.parametrize('multiplier', [1.0, 0.5])
def test_fuse_conv_bn_keeps_outputs_and_removes_every_bn(multiplier):
    model = _random_bn(create_model('mobilenext_050', identity_tensor_multiplier=multiplier))
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
    model = _random_bn(MobileNetV2(out_indices=(7, )))
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


def _random_boxes(rng, n, size=300.):
    xy = rng.uniform(0, size, (n, 2))
    wh = rng.uniform(5, 80, (n, 2))
    return np.concatenate([xy, xy + wh], 1).astype(np.float32)


def test_nms_matches_mmcv_and_torchvision():
    ops = pytest.importorskip('mmcv.ops')
    import torchvision
    rng = np.random.default_rng(0)
    boxes, scores = _random_boxes(rng, 400), rng.random(400).astype(np.float32)
    labels = rng.integers(0, 5, 400)
    keep = nms(boxes, scores, 0.45)
    ref = torchvision.ops.nms(torch.from_numpy(boxes), torch.from_numpy(scores), 0.45)
    np.testing.assert_array_equal(keep, ref.numpy())
    _, ref_keep = ops.batched_nms(torch.from_numpy(boxes), torch.from_numpy(scores),
                                  torch.from_numpy(labels), dict(type='nms', iou_threshold=0.45))
    np.testing.assert_array_equal(batched_nms(boxes, scores, labels, 0.45), ref_keep.numpy())
    assert 0 < len(keep) < 400


def test_ssd_postprocess_filters_topk_rescales_and_limits():
    rng = np.random.default_rng(1)
    boxes = _random_boxes(rng, 60)
    scores = rng.random((60, 3)).astype(np.float32) * 0.5
    boxes[5] = [10, 10, 10, 40]  # zero width: dropped by min_bbox_size=0
    scores[5] = 0.99
    out = ssd_postprocess(boxes, scores, level_sizes=[40, 20], score_thr=0.1, nms_pre=10,
                          iou_threshold=0.5, max_per_img=8, min_bbox_size=0,
                          scale_factor=(2., 0.5))
    assert len(out['scores']) == 8
    assert np.all(np.diff(out['scores']) <= 0) and np.all(out['scores'] > 0.1)
    # every detection is one of the 10 best pairs of its level, rescaled
    for box, score, label in zip(out['bboxes'], out['scores'], out['labels']):
        idx = np.nonzero(np.isclose(scores[:, label], score))[0][0]
        level = scores[:40] if idx < 40 else scores[40:]
        assert (level > score).sum() < 10
        np.testing.assert_allclose(box, boxes[idx] / [2., 0.5, 2., 0.5], rtol=1e-6)
    assert not np.any(np.isclose(out['scores'], 0.99))
    with pytest.raises(ValueError, match='level_sizes'):
        ssd_postprocess(boxes, scores, [50], 0.1, 10, 0.5, 8)
