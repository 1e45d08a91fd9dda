"""SSDLiteHead: mmdet's SSDHead without its predict crash."""
import pytest
import torch

pytest.importorskip('mmdet')
from mmdet.models.dense_heads import SSDHead  # noqa: E402
from mmdet.utils import register_all_modules  # noqa: E402
from mmengine.config import ConfigDict  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

from mnext_det.models.heads import SSDLiteHead  # noqa: E402


@pytest.fixture(autouse=True)
def mmdet_scope():
    # the heads build their anchor generator and coder from mmdet's registries,
    # whatever scope an earlier test left behind
    register_all_modules(init_default_scope=False)
    init_default_scope('mmdet')


HEAD = dict(num_classes=3, in_channels=(8, 16), use_depthwise=True,
            anchor_generator=dict(type='SSDAnchorGenerator', scale_major=False, strides=[8, 16],
                                  ratios=[[2], [2]], min_sizes=[8, 16], max_sizes=[16, 32]),
            bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[.0] * 4,
                            target_stds=[0.1, 0.1, 0.2, 0.2]),
            test_cfg=ConfigDict(nms_pre=100, nms=dict(type='nms', iou_threshold=0.45),
                                min_bbox_size=0, score_thr=0.0, max_per_img=10))


def _predict(head):
    head.eval()
    feats = (torch.rand(1, 8, 4, 4), torch.rand(1, 16, 2, 2))
    cls, reg = head(feats)
    return head.predict_by_feat(cls, reg, batch_img_metas=[dict(img_shape=(32, 32))],
                                rescale=False)


def test_ssdhead_predict_crash_is_fixed():
    # upstream mmdet 3.3.0 still crashes; when this fails, SSDLiteHead can go
    with pytest.raises(AttributeError, match='loss_cls'):
        _predict(SSDHead(**HEAD))
    result = _predict(SSDLiteHead(**HEAD))[0]
    assert len(result.bboxes) == 10 and result.labels.max() < 3


@pytest.mark.skipif(not torch.cuda.is_available(),
                    reason='needs CUDA (mmcv built with FORCE_CUDA=1)')
def test_cuda_nms_keeps_the_cpu_detections():
    """The same raw scores and boxes through the head's post-processing on the CPU and
    on the GPU (mmcv's CUDA NMS) give the same detections."""
    head = SSDLiteHead(**dict(HEAD, test_cfg=ConfigDict(
        nms_pre=1000, nms=dict(type='nms', iou_threshold=0.45), min_bbox_size=0,
        score_thr=0.02, max_per_img=200))).eval()
    gen = torch.Generator().manual_seed(0)
    metas = [dict(img_shape=(32, 32))] * 4
    with torch.no_grad():
        cls, reg = head((torch.rand(4, 8, 4, 4, generator=gen),
                         torch.rand(4, 16, 2, 2, generator=gen)))
        cpu = head.predict_by_feat(cls, reg, batch_img_metas=metas, rescale=False)
        head.cuda()
        gpu = head.predict_by_feat([c.cuda() for c in cls], [r.cuda() for r in reg],
                                   batch_img_metas=metas, rescale=False)
    for a, b in zip(cpu, gpu):
        assert len(a.bboxes) > 0 and len(a.bboxes) == len(b.bboxes)
        assert torch.equal(a.labels, b.labels.cpu())
        torch.testing.assert_close(a.scores, b.scores.cpu(), rtol=0, atol=1e-6)
        torch.testing.assert_close(a.bboxes, b.bboxes.cpu(), rtol=0, atol=1e-4)
