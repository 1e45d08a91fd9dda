"""mmdet's ``SSDHead`` without the mmdet 3.3.0 predict/val crash, with its
anchors kept between steps.

``SSDHead.__init__`` skips ``AnchorHead.__init__`` and so never sets
``loss_cls`` (SSD computes its cross-entropy itself), but
``BaseDenseHead._predict_by_feat_single`` reads ``self.loss_cls`` and fails
with ``AttributeError: 'SSDHead' object has no attribute 'loss_cls'``
(open-mmlab/mmdetection issues 11063, 11305, 11780).

``AnchorHead.get_anchors`` builds every level's anchors and every image's
valid flags again in each training step, although they depend only on the
feature map sizes, the padded image shape and the device: 5 ms of a 170 ms
SSDLite demo step (batch 8, one thread; ``docs/deploy.md``, "Training").
"""
from collections import OrderedDict
from typing import Callable, Hashable, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from torch import Tensor
from mmdet.models.dense_heads import SSDHead
from mmdet.registry import MODELS

__all__ = ['SSDLiteHead']


@MODELS.register_module()
class SSDLiteHead(SSDHead):
    """``SSDHead`` (same arguments, weights and losses) that can predict and
    builds its training anchors once per input layout.

    With ``use_depthwise=True``, BN and ReLU6 it is the SSDLite head of
    mmdet's ``ssdlite_mobilenetv2`` config and of the authors' code: per level a
    depthwise 3x3 (+BN+ReLU6) then 1x1 convs for class scores and boxes.
    """

    # SSD's loss uses F.cross_entropy directly; prediction only asks whether
    # the loss module defines custom class channels, which ``None`` answers.
    loss_cls: Optional[nn.Module] = None

    #: Anchor and valid-flag sets kept (the most recently used); more than two
    #: serve multi-scale training and several padded shapes.
    anchor_cache_entries = 16

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._anchor_cache: 'OrderedDict[Hashable, List[Tensor]]' = OrderedDict()

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
