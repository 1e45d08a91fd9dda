"""The numpy NMS and SSD post-processing (no ONNX needed)."""
import numpy as np
import pytest
import torch

from mnext_det.deploy import batched_nms, nms, ssd_postprocess


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
