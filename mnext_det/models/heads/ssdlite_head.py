"""mmdet's ``SSDHead`` without the mmdet 3.3.0 predict/val crash.

``SSDHead.__init__`` skips ``AnchorHead.__init__`` and so never sets
``loss_cls`` (SSD computes its cross-entropy itself), but
``BaseDenseHead._predict_by_feat_single`` reads ``self.loss_cls`` and fails
with ``AttributeError: 'SSDHead' object has no attribute 'loss_cls'``
(open-mmlab/mmdetection issues 11063, 11305, 11780).
"""
from typing import Optional

import torch.nn as nn
from mmdet.models.dense_heads import SSDHead
from mmdet.registry import MODELS

__all__ = ['SSDLiteHead']


@MODELS.register_module()
class SSDLiteHead(SSDHead):
    """``SSDHead`` (same arguments and weights) that can predict.

    With ``use_depthwise=True``, BN and ReLU6 it is the SSDLite head of
    mmdet's ``ssdlite_mobilenetv2`` config and of the authors' code: per level a
    depthwise 3x3 (+BN+ReLU6) then 1x1 convs for class scores and boxes.
    """

    # SSD's loss uses F.cross_entropy directly; prediction only asks whether
    # the loss module defines custom class channels, which ``None`` answers.
    loss_cls: Optional[nn.Module] = None
