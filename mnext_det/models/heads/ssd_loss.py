"""SSD's training targets and loss for a whole batch at once.

mmdet's ``SSDHead.loss_by_feat`` assigns anchors to boxes, encodes the targets
and mines hard negatives one image at a time: some 40 small tensor ops per
image, which cost more than the arithmetic on a CPU (about 1 ms per image in
the demo's step of 150-190 ms) and as many kernel launches on a GPU.
:func:`ssd_batch_loss` does the same over the batch in one pass of each op
(only the hard negatives are still taken image by image), with the head's own
assigner settings, IoU calculator and box coder:

- ``MaxIoUAssigner`` (``gt_max_assign_all=False``, no ignored boxes):
  anchors with IoU >= ``pos_iou_thr`` take their best box, those below
  ``neg_iou_thr`` are background, and every box then claims its best anchor,
  a later box winning a shared one; invalid anchors are left out; an image
  without boxes is all background;
- ``PseudoSampler``: all positives and negatives, ``avg_factor`` the number of
  positives in the batch, each image counting at least one (mmdet's
  ``SamplingResult``);
- per image the cross-entropy of its positives plus that of its
  ``neg_pos_ratio`` x positives hardest negatives (chosen image by image with
  mmdet's own ``topk`` call, so that ties fall as in mmdet), and smooth L1 on
  the positives' encoded boxes, each divided by ``avg_factor``.

Assignment, targets and gradients are mmdet's to the bit (the same
element-wise ops on padded batch tensors); the two loss values are the same
sums taken in another order, so they differ from mmdet's by float rounding.
:func:`supports_batch_loss` names the head settings this covers; the head
keeps mmdet's loop for any other.
"""
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from mmdet.models.losses import smooth_l1_loss
from mmdet.models.task_modules import (BboxOverlaps2D, DeltaXYWHBBoxCoder, MaxIoUAssigner,
                                       PseudoSampler)
from mmdet.structures.bbox import get_box_tensor

__all__ = ['supports_batch_loss', 'ssd_batch_targets', 'ssd_batch_loss']


def supports_batch_loss(head) -> bool:
    """Whether ``head`` (an ``SSDHead``) is set up as :func:`ssd_batch_loss`
    computes it: the module docstring's assigner, sampler and coder, anchors
    not clipped to the image (``allowed_border < 0``), no ``pos_weight``."""
    assigner, cfg = getattr(head, 'assigner', None), head.train_cfg or {}
    return (type(assigner) is MaxIoUAssigner and type(head.sampler) is PseudoSampler
            and type(head.bbox_coder) is DeltaXYWHBBoxCoder
            and type(assigner.iou_calculator) is BboxOverlaps2D
            and assigner.iou_calculator.dtype is None and assigner.iou_calculator.scale == 1.
            and not assigner.gt_max_assign_all and assigner.match_low_quality
            and isinstance(assigner.neg_iou_thr, float) and assigner.perm_repeat_gt_cfg is None
            and not head.reg_decoded_bbox and cfg.get('allowed_border', -1) < 0
            and cfg.get('pos_weight', -1) <= 0)


def _padded_boxes(boxes: Sequence[Tensor], labels: Sequence[Tensor]
                  ) -> Tuple[Tensor, Tensor, Tensor]:
    """``(B, G, 4)`` boxes, ``(B, G)`` labels and ``(B, G)`` real-box mask,
    each image's boxes first and zeros after them; ``G >= 1``, so that a
    batch without any box takes the same path (its one padded box is never
    real)."""
    counts = torch.tensor([len(b) for b in boxes], device=boxes[0].device)
    size = max(1, int(counts.max()))
    out = boxes[0].new_zeros(len(boxes), size, 4)
    out_labels = labels[0].new_zeros(len(boxes), size)
    for i, (b, lab) in enumerate(zip(boxes, labels)):
        out[i, :len(b)] = b
        out_labels[i, :len(b)] = lab
    real = torch.arange(size, device=counts.device) < counts[:, None]
    return out, out_labels, real


def ssd_batch_targets(head, anchors: Tensor, valid: Tensor, gt_boxes: Sequence[Tensor],
                      gt_labels: Sequence[Tensor]) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """Assign the ``(A, 4)`` anchors in each image (``valid``: ``(B, A)``) to
    its boxes; return ``labels`` (``(B, A)``, ``head.num_classes`` for
    background), ``label_weights`` (``(B, A)``, 0 for ignored anchors),
    ``bbox_targets`` (``(B, A, 4)``, encoded, 0 off the positives) and the
    positive mask."""
    assigner, num_images, num_anchors = head.assigner, valid.size(0), anchors.size(0)
    boxes, labels, real = _padded_boxes(gt_boxes, gt_labels)
    expanded = anchors.expand(num_images, num_anchors, 4)
    overlaps = assigner.iou_calculator(boxes, expanded)  # (B, G, A)
    # padded boxes and invalid anchors below every real IoU (>= 0): never chosen
    overlaps = overlaps.masked_fill(~real[:, :, None] | ~valid[:, None, :], -1.)
    max_overlaps, argmax_overlaps = overlaps.max(dim=1)
    gt_max_overlaps, gt_argmax_overlaps = overlaps.max(dim=2)
    assigned = torch.full_like(argmax_overlaps, -1)
    assigned[(max_overlaps >= 0) & (max_overlaps < assigner.neg_iou_thr)] = 0
    above = max_overlaps >= assigner.pos_iou_thr
    assigned[above] = argmax_overlaps[above] + 1
    # each box claims its best anchor in box order, so the last claim on an anchor wins
    claims = real & (gt_max_overlaps >= assigner.min_pos_iou)
    order = torch.arange(1, boxes.size(1) + 1, device=boxes.device).expand_as(claims)
    claimed = torch.zeros_like(assigned).scatter_reduce(
        1, gt_argmax_overlaps, torch.where(claims, order, 0), reduce='amax')
    assigned = torch.where(claimed > 0, claimed, assigned)
    # an image without boxes: every valid anchor is background
    no_boxes = ~real.any(dim=1, keepdim=True)
    assigned = torch.where(no_boxes & valid, 0, assigned)
    positive = assigned > 0
    gt_index = (assigned - 1).clamp(min=0)
    matched = boxes.gather(1, gt_index[..., None].expand(-1, -1, 4))
    class_of = labels.gather(1, gt_index)
    targets = head.bbox_coder.encode(expanded.reshape(-1, 4), matched.reshape(-1, 4))
    bbox_targets = torch.where(positive[..., None], targets.view(num_images, num_anchors, 4), 0.)
    out_labels = torch.where(positive, class_of, head.num_classes)
    label_weights = (assigned >= 0).to(anchors.dtype)
    return out_labels, label_weights, bbox_targets, positive


def ssd_batch_loss(head, cls_scores: List[Tensor], bbox_preds: List[Tensor],
                   batch_gt_instances, batch_img_metas: List[dict]) -> Dict[str, Tensor]:
    """``SSDHead.loss_by_feat`` over the batch at once: ``dict(loss_cls,
    loss_bbox)``, each the sum over images that mmdet's lists add up to."""
    num_images = len(batch_img_metas)
    featmap_sizes = [s.size()[-2:] for s in cls_scores]
    anchor_list, flag_list = head.get_anchors(featmap_sizes, batch_img_metas,
                                              device=cls_scores[0].device)
    anchors = torch.cat(anchor_list[0])
    valid = torch.stack([torch.cat(flags) for flags in flag_list])
    labels, label_weights, bbox_targets, positive = ssd_batch_targets(
        head, anchors, valid, [get_box_tensor(g.bboxes) for g in batch_gt_instances],
        [g.labels for g in batch_gt_instances])
    scores = torch.cat([s.permute(0, 2, 3, 1).reshape(num_images, -1, head.cls_out_channels)
                        for s in cls_scores], 1)
    deltas = torch.cat([b.permute(0, 2, 3, 1).reshape(num_images, -1, 4) for b in bbox_preds], 1)
    avg_factor = int(positive.sum(1).clamp(min=1).sum())  # mmdet counts an image's at least 1
    loss_all = F.cross_entropy(scores.reshape(-1, head.cls_out_channels), labels.reshape(-1),
                               reduction='none').view_as(label_weights) * label_weights
    negative = labels == head.num_classes
    num_neg = torch.minimum(head.train_cfg['neg_pos_ratio'] * positive.sum(1), negative.sum(1))
    # each image's hardest negatives as mmdet takes them, topk over its negatives in anchor
    # order: among equal losses (dead units give equal logits) topk's choice depends on its
    # input, and another choice sends the gradient to other anchors
    hardest = torch.stack([loss_all[i][negative[i]].topk(k).values.sum()
                           for i, k in enumerate(num_neg.tolist())])
    loss_cls = (((loss_all * positive).sum(1) + hardest) / avg_factor).sum()
    loss_bbox = smooth_l1_loss(deltas, bbox_targets, positive[..., None].to(deltas.dtype)
                               .expand_as(deltas), beta=head.train_cfg['smoothl1_beta'],
                               avg_factor=avg_factor)
    return dict(loss_cls=loss_cls, loss_bbox=loss_bbox)
