"""mmdet's ``SSDHead`` without the mmdet 3.3.0 predict/val crash, with its
anchors kept between steps and its loss computed for the batch at once.

``SSDHead.__init__`` skips ``AnchorHead.__init__`` and so never sets
``loss_cls`` (SSD computes its cross-entropy itself), but
``BaseDenseHead._predict_by_feat_single`` reads ``self.loss_cls`` and fails
with ``AttributeError: 'SSDHead' object has no attribute 'loss_cls'``
(open-mmlab/mmdetection issues 11063, 11305, 11780).

``AnchorHead.get_anchors`` builds every level's anchors and every image's
valid flags again in each training step, although they depend only on the
feature map sizes, the padded image shape and the device: 5 ms of a 170 ms
SSDLite demo step (batch 8, one thread; ``docs/deploy.md``, "Training").

``SSDHead.loss_by_feat`` assigns, encodes and mines hard negatives image by
image; ``ssd_loss.ssd_batch_loss`` does it for the batch at once (all but the
hard-negative ``topk``), with mmdet's targets and gradients bit for bit.
"""
from collections import OrderedDict
from typing import Callable, Hashable, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from torch import Tensor
from mmdet.models.dense_heads import SSDHead
from mmdet.registry import MODELS
from mmdet.utils import InstanceList, OptInstanceList

from .ssd_loss import ssd_batch_loss, supports_batch_loss

__all__ = ['SSDLiteHead']


@MODELS.register_module()
class SSDLiteHead(SSDHead):
    """``SSDHead`` (same arguments, weights and losses) that can predict,
    builds its training anchors once per input layout and computes its loss
    for the whole batch at once.

    With ``use_depthwise=True``, BN and ReLU6 it is the SSDLite head of
    mmdet's ``ssdlite_mobilenetv2`` config and of the authors' code: per level a
    depthwise 3x3 (+BN+ReLU6) then 1x1 convs for class scores and boxes.

    Args:
        batch_loss: Compute the loss with ``ssd_loss.ssd_batch_loss`` (the
            same targets, the same sums in another order) where the train
            settings allow it (``ssd_loss.supports_batch_loss``; mmdet's
            per-image loop otherwise). ``False`` always runs mmdet's loop.
            Default: True.
        *args, **kwargs: ``SSDHead``'s; a ``train_cfg.sampler`` that adds the
            boxes as proposals (mmdet's ``RandomSampler`` by default) is refused.
    """

    # SSD's loss uses F.cross_entropy directly; prediction only asks whether
    # the loss module defines custom class channels, which ``None`` answers.
    loss_cls: Optional[nn.Module] = None

    #: Anchor and valid-flag sets kept (the most recently used); more than two
    #: serve multi-scale training and several padded shapes.
    anchor_cache_entries = 16

    def __init__(self, *args, batch_loss: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        sampler = getattr(self, 'sampler', None)
        if getattr(sampler, 'add_gt_as_proposals', False):
            # mmdet's sampler then puts the boxes before the anchors, and every index it
            # returns lands on another anchor (or past the last: an IndexError)
            raise ValueError(
                f'train_cfg.sampler: {type(sampler).__name__} with add_gt_as_proposals=True '
                '(its default) shifts the sampled indices of an anchor head onto other anchors; '
                'set add_gt_as_proposals=False, as mmdet\'s anchor-head configs do')
        self._anchor_cache: 'OrderedDict[Hashable, List[Tensor]]' = OrderedDict()
        self.batch_loss = batch_loss and supports_batch_loss(self)

    def loss_by_feat(self, cls_scores: List[Tensor], bbox_preds: List[Tensor],
                     batch_gt_instances: InstanceList, batch_img_metas: List[dict],
                     batch_gt_instances_ignore: OptInstanceList = None) -> dict:
        """``SSDHead.loss_by_feat``; with ``batch_loss`` and no boxes to
        ignore, for the batch at once (each loss one tensor, the sum of the
        per-image list mmdet returns)."""
        ignored = batch_gt_instances_ignore is not None and any(
            g is not None and len(g) for g in batch_gt_instances_ignore)
        if self.batch_loss and not ignored:
            return ssd_batch_loss(self, cls_scores, bbox_preds, batch_gt_instances,
                                  batch_img_metas)
        return super().loss_by_feat(cls_scores, bbox_preds, batch_gt_instances,
                                    batch_img_metas, batch_gt_instances_ignore)

    def get_anchors(self, featmap_sizes: List[tuple], batch_img_metas: List[dict],
                    device: Union[torch.device, str] = 'cuda'
                    ) -> Tuple[List[List[Tensor]], List[List[Tensor]]]:
        """``AnchorHead.get_anchors`` (the same tensors), built once per feature
        map sizes, padded image shape and device and then reused. Callers
        (``get_targets``, ``loss_by_feat``) only concatenate them."""
        sizes = tuple(tuple(int(v) for v in size) for size in featmap_sizes)
        anchors = self._cached(('anchors', sizes, str(device)),
                               lambda: self.prior_generator.grid_priors(featmap_sizes,
                                                                        device=device))
        flags = [self._cached(('flags', sizes, tuple(meta['pad_shape']), str(device)),
                              lambda meta=meta: self.prior_generator.valid_flags(
                                  featmap_sizes, meta['pad_shape'], device))
                 for meta in batch_img_metas]
        return [anchors] * len(batch_img_metas), flags

    def _cached(self, key: Hashable, build: Callable[[], List[Tensor]]) -> List[Tensor]:
        cache = self._anchor_cache
        if key in cache:
            cache.move_to_end(key)
        else:
            cache[key] = build()
            while len(cache) > self.anchor_cache_entries:
                cache.popitem(last=False)
        return cache[key]
