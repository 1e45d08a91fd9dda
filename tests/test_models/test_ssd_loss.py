"""ssd_batch_loss: SSD's targets for the whole batch equal mmdet's per-image
ones bit for bit (shared best anchors, images without boxes, anchors outside
a narrower padded image), and its losses and gradients equal mmdet's up to
the order of the sums; other train settings keep mmdet's loop."""
import pytest
import torch

pytest.importorskip('mmdet')
from mmdet.models.dense_heads import SSDHead  # noqa: E402
from mmengine.structures import InstanceData  # noqa: E402

from mnext_det.models.heads import SSDLiteHead  # noqa: E402
from mnext_det.models.heads.ssd_loss import ssd_batch_targets, supports_batch_loss  # noqa: E402

from .ssdlite_head_inputs import HEAD, batch, train_cfg, use_mmdet_scope  # noqa: E402


@pytest.fixture(autouse=True)
def mmdet_scope():
    use_mmdet_scope()


UNIT = 2.0**-24  # float32 unit roundoff


def _hard_batch(seed):
    """Four images: random boxes, the first box twice (two boxes, one best
    anchor: the later one takes it), no box, and a narrower padded image."""
    metas, gts = batch([(32, 32), (32, 32), (32, 32), (32, 20)], seed=seed)
    first = gts[1]
    gts[1] = InstanceData(bboxes=torch.cat([first.bboxes, first.bboxes[:1]]),
                          labels=torch.cat([first.labels, (first.labels[:1] + 1) % 3]))
    gts[2] = InstanceData(bboxes=torch.zeros(0, 4), labels=torch.zeros(0, dtype=torch.long))
    return metas, gts


@pytest.mark.parametrize('seed', range(4))
def test_batch_targets_are_mmdets_bit_for_bit(seed):
    head = SSDLiteHead(**HEAD, train_cfg=train_cfg())
    metas, gts = _hard_batch(seed)
    sizes = [torch.Size((4, 4)), torch.Size((2, 2))]
    anchor_list, flag_list = head.get_anchors(sizes, metas, device='cpu')
    labels, weights, targets, _, _, = SSDHead.get_targets(head, anchor_list, flag_list, gts,
                                                          metas)[:5]
    valid = torch.stack([torch.cat(f) for f in flag_list])
    assert not valid[3].all() and valid[0].all()  # the narrow image has anchors outside it
    got = ssd_batch_targets(head, torch.cat(anchor_list[0]), valid, [g.bboxes for g in gts],
                            [g.labels for g in gts])
    assert torch.equal(got[0], torch.cat(labels, 1))
    assert torch.equal(got[1], torch.cat(weights, 1))
    assert torch.equal(got[2], torch.cat(targets, 1))
    assert got[3][1].any() and not got[3][2].any()
    assert (got[1][3] == 0).sum() == (~valid[3]).sum()  # anchors outside: no weight


def test_a_batch_without_any_box_is_all_background():
    head = SSDLiteHead(**HEAD, train_cfg=train_cfg())
    metas, _ = batch([(32, 32), (32, 20)])
    gts = [InstanceData(bboxes=torch.zeros(0, 4), labels=torch.zeros(0, dtype=torch.long))] * 2
    sizes = [torch.Size((4, 4)), torch.Size((2, 2))]
    anchor_list, flag_list = head.get_anchors(sizes, metas, device='cpu')
    labels, weights, targets = SSDHead.get_targets(head, anchor_list, flag_list, gts, metas)[:3]
    valid = torch.stack([torch.cat(f) for f in flag_list])
    got = ssd_batch_targets(head, torch.cat(anchor_list[0]), valid, [g.bboxes for g in gts],
                            [g.labels for g in gts])
    assert torch.equal(got[0], torch.cat(labels, 1)) and (got[0] == 3).all()
    assert torch.equal(got[1], torch.cat(weights, 1)) and torch.equal(got[1], valid.float())
    assert torch.equal(got[2], torch.cat(targets, 1)) and not got[3].any()


@pytest.mark.parametrize('seed, tied', [(0, False), (1, False), (2, False), (0, True)])
def test_batch_loss_and_gradients_are_mmdets(seed, tied):
    """``tied``: the class convs' last layer zeroed, so every anchor of a kind
    has the same logits and the hard negatives tie: the batch loss must pick
    them as mmdet does, or the gradient goes to other anchors."""
    torch.manual_seed(seed)
    head = SSDLiteHead(**HEAD, train_cfg=train_cfg())
    if tied:
        for convs in head.cls_convs:
            torch.nn.init.zeros_(convs[-1].weight)
    reference = SSDLiteHead(**HEAD, train_cfg=train_cfg(), batch_loss=False)
    reference.load_state_dict(head.state_dict())
    assert head.batch_loss and not reference.batch_loss
    metas, gts = _hard_batch(seed)
    feats = (torch.rand(4, 8, 4, 4), torch.rand(4, 16, 2, 2))
    out = []
    for model in (head, reference):
        loss = model.loss_by_feat(*model(feats), gts, metas)
        totals = {k: v if torch.is_tensor(v) else sum(v).sum() for k, v in loss.items()}
        sum(totals.values()).backward()
        out.append((totals, [p.grad for p in model.parameters()]))
    (got, got_grads), (want, want_grads) = out
    assert isinstance(want_grads[0], torch.Tensor) and got['loss_cls'] > 0
    # non-negative terms summed in another order: at most 2 (n - 1) roundings of the sum,
    # n = a positive and a hard negative per anchor and one term per image
    anchors = sum(4 * s * s for s in (4, 2))
    bound = 2 * (2 * anchors + len(gts)) * UNIT
    for key in ('loss_cls', 'loss_bbox'):
        torch.testing.assert_close(got[key], want[key].reshape(()), rtol=bound, atol=0)
    # each gradient entry is one product of the same factors: a few roundings
    for g, w in zip(got_grads, want_grads):
        torch.testing.assert_close(g, w, rtol=8 * UNIT, atol=8 * UNIT * w.abs().max())


@pytest.mark.parametrize('change', [
    dict(assigner=dict(gt_max_assign_all=True)), dict(pos_weight=1.),
    dict(sampler=dict(type='RandomSampler', num=16, pos_fraction=0.5,
                      add_gt_as_proposals=False)),
    dict(assigner=dict(neg_iou_thr=(0.1, 0.5))), dict(allowed_border=0)])
def test_other_train_settings_keep_mmdets_loop(change):
    cfg = train_cfg()
    for key, value in change.items():
        cfg[key] = dict(cfg[key], **value) if isinstance(value, dict) else value
    head = SSDLiteHead(**HEAD, train_cfg=cfg)
    assert not supports_batch_loss(head) and not head.batch_loss
    metas, gts = batch([(32, 32)] * 2)
    loss = head.loss_by_feat(*head((torch.rand(2, 8, 4, 4), torch.rand(2, 16, 2, 2))), gts, metas)
    assert isinstance(loss['loss_cls'], list) and len(loss['loss_cls']) == 2


def test_a_sampler_that_adds_the_boxes_as_proposals_is_refused():
    """mmdet's samplers add the boxes before the anchors by default, which for
    an anchor head sends each sampled index to another anchor."""
    cfg = train_cfg()
    cfg['sampler'] = dict(type='RandomSampler', num=16, pos_fraction=0.5)
    with pytest.raises(ValueError, match='train_cfg.sampler: RandomSampler with '
                       'add_gt_as_proposals=True'):
        SSDLiteHead(**HEAD, train_cfg=cfg)
