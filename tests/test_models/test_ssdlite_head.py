"""SSDLiteHead: mmdet's SSDHead without its predict crash."""
import pytest
import torch

pytest.importorskip('mmdet')
from mmdet.models.dense_heads import SSDHead  # noqa: E402
from mmengine.config import ConfigDict  # noqa: E402

from mnext_det.models.heads import SSDLiteHead  # noqa: E402

from .ssdlite_head_inputs import HEAD, batch, train_cfg, use_mmdet_scope  # noqa: E402


@pytest.fixture(autouse=True)
def mmdet_scope():
    use_mmdet_scope()


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


def test_cached_anchors_are_mmdets_and_built_once_per_layout():
    head, reference = SSDLiteHead(**HEAD), SSDHead(**HEAD)
    sizes = [torch.Size((4, 4)), torch.Size((2, 2))]
    metas, _ = batch([(32, 32), (32, 20), (32, 32)])
    anchors, flags = head.get_anchors(sizes, metas, device='cpu')
    ref_anchors, ref_flags = reference.get_anchors(sizes, metas, device='cpu')
    for got, want in zip(anchors + flags, ref_anchors + ref_flags):
        assert all(torch.equal(g, w) for g, w in zip(got, want))
    # a narrower padded image has anchors outside it: its flags are its own
    assert not torch.equal(torch.cat(flags[1]), torch.cat(flags[0]))
    again, again_flags = head.get_anchors(sizes, metas[::-1], device='cpu')
    assert again[0] is anchors[0] and again_flags[0] is flags[2] and again_flags[1] is flags[1]
    other, _ = head.get_anchors([torch.Size((8, 8)), torch.Size((4, 4))], metas[:1], 'cpu')
    assert other[0][0].shape[0] == 4 * anchors[0][0].shape[0]


def test_cache_keeps_the_most_recent_entries():
    head = SSDLiteHead(**HEAD)
    head.anchor_cache_entries = 4
    sizes = [torch.Size((4, 4)), torch.Size((2, 2))]
    anchors, (flags, ) = head.get_anchors(sizes, [dict(pad_shape=(32, 32))], 'cpu')
    for width in (20, 24, 28, 30):
        head.get_anchors(sizes, [dict(pad_shape=(32, width))], 'cpu')
    assert len(head._anchor_cache) == 4
    # the anchors were used by every call and stay; the first flags were evicted
    again, (rebuilt, ) = head.get_anchors(sizes, [dict(pad_shape=(32, 32))], 'cpu')
    assert again[0] is anchors[0]
    assert rebuilt is not flags and all(torch.equal(a, b) for a, b in zip(rebuilt, flags))


def test_training_loss_is_mmdets_over_steps():
    """Same weights, same batches: the cached head's losses and gradients equal
    mmdet's SSDHead's bit for bit, step after step (the cache is only read;
    the batch loss is ``test_ssd_loss.py``'s)."""
    torch.manual_seed(0)
    head = SSDLiteHead(**HEAD, train_cfg=train_cfg(), batch_loss=False)
    reference = SSDHead(**HEAD, train_cfg=train_cfg())
    reference.load_state_dict(head.state_dict())
    for step, shapes in enumerate([[(32, 32)] * 2, [(32, 32), (32, 24)], [(32, 32)] * 2]):
        metas, gts = batch(shapes, seed=step)
        feats = (torch.rand(2, 8, 4, 4), torch.rand(2, 16, 2, 2))
        losses = []
        for model in (head, reference):
            model.zero_grad()
            loss = model.loss_by_feat(*model(feats), gts, metas)
            total = sum(sum(v) for v in loss.values())
            total.backward()
            losses.append((total, [p.grad.clone() for p in model.parameters()]))
        assert torch.equal(losses[0][0], losses[1][0])
        assert all(torch.equal(a, b) for a, b in zip(losses[0][1], losses[1][1]))
