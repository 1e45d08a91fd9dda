"""mmdet SSD-style detectors as static export graphs.

The graph is backbone + neck + head + box decoding with the anchors stored
as constants: normalised image ``(N, 3, H, W)`` -> ``boxes (N, A, 4)``
(x1, y1, x2, y2 in input pixels, clipped to the input) and ``scores
(N, A, C)`` (softmax without the background column, or sigmoid). Score
filtering and NMS run outside, in :func:`mnext_det.deploy.ssd_postprocess`,
with the settings :meth:`SSDExportWrapper.postprocess_config` returns.
"""
from typing import Any, Dict, List, Tuple

import numpy as np
import torch
import torch.nn as nn

__all__ = ['SSDExportWrapper']


class SSDExportWrapper(nn.Module):
    """Wrap an mmdet single-stage detector whose head has ``prior_generator``
    and a ``DeltaXYWHBBoxCoder`` (SSD, SSDLite) for export.

    Args:
        detector: The mmdet detector (``extract_feat`` and ``bbox_head``).
        input_size: ``(H, W)`` of the exported input; anchors are computed
            for it.
    """

    def __init__(self, detector: nn.Module, input_size: Tuple[int, int]) -> None:
        super().__init__()
        head = getattr(detector, 'bbox_head', None)
        if head is None or not hasattr(head, 'prior_generator'):
            raise ValueError(f'{type(detector).__name__} is not an anchor-based '
                            'single-stage detector (needs bbox_head.prior_generator)')
        coder = head.bbox_coder
        if type(coder).__name__ != 'DeltaXYWHBBoxCoder' or coder.add_ctr_clamp:
            raise ValueError(f'only DeltaXYWHBBoxCoder without ctr clamp is supported, '
                            f'got {type(coder).__name__}')
        self.detector = detector
        self.input_size = tuple(input_size)
        self.use_sigmoid = bool(head.use_sigmoid_cls)
        self.cls_out_channels = head.cls_out_channels
        self.num_classes = head.num_classes
        was_training = detector.training
        detector.eval()
        with torch.no_grad():
            cls_scores, _ = head(detector.extract_feat(torch.zeros(1, 3, *input_size)))
        detector.train(was_training)
        priors = head.prior_generator.grid_priors(
            [c.shape[-2:] for c in cls_scores], device='cpu')
        self.level_sizes: List[int] = [int(p.shape[0]) for p in priors]
        self.register_buffer('anchors', torch.cat(priors).float())
        self.register_buffer('means', torch.tensor(coder.means, dtype=torch.float32))
        self.register_buffer('stds', torch.tensor(coder.stds, dtype=torch.float32))
        h, w = input_size
        self.register_buffer('max_xyxy', torch.tensor([w, h, w, h], dtype=torch.float32))
        self.clip_border = bool(coder.clip_border)
        # mmdet decodes predictions with the coder's default wh_ratio_clip.
        self.max_ratio = float(np.abs(np.log(16 / 1000)))

    def decode(self, deltas: torch.Tensor) -> torch.Tensor:
        """Boxes from ``(N, A, 4)`` deltas, as mmdet's ``delta2bbox``."""
        d = deltas * self.stds + self.means
        pxy = (self.anchors[:, :2] + self.anchors[:, 2:]) * 0.5
        pwh = self.anchors[:, 2:] - self.anchors[:, :2]
        gxy = pxy + pwh * d[..., :2]
        gwh = pwh * d[..., 2:].clamp(min=-self.max_ratio, max=self.max_ratio).exp()
        boxes = torch.cat([gxy - gwh * 0.5, gxy + gwh * 0.5], dim=-1)
        if self.clip_border:
            boxes = torch.minimum(boxes.clamp(min=0), self.max_xyxy)
        return boxes

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        cls_scores, bbox_preds = self.detector.bbox_head(self.detector.extract_feat(x))
        n = x.shape[0]
        logits = torch.cat([c.permute(0, 2, 3, 1).reshape(n, -1, self.cls_out_channels)
                            for c in cls_scores], dim=1)
        deltas = torch.cat([b.permute(0, 2, 3, 1).reshape(n, -1, 4) for b in bbox_preds],
                           dim=1)
        scores = logits.sigmoid() if self.use_sigmoid else logits.softmax(-1)[..., :-1]
        return self.decode(deltas), scores

    def postprocess_config(self) -> Dict[str, Any]:
        """Settings for :func:`ssd_postprocess`, from the head's ``test_cfg``."""
        cfg = self.detector.bbox_head.test_cfg
        nms_cfg = cfg.get('nms', {})
        if nms_cfg.get('type', 'nms') != 'nms':
            raise ValueError(f"only test_cfg.nms.type='nms' is supported, got {nms_cfg}")
        return dict(level_sizes=self.level_sizes,
                    score_thr=float(cfg.get('score_thr', 0.)),
                    nms_pre=int(cfg.get('nms_pre', -1)),
                    iou_threshold=float(nms_cfg['iou_threshold']),
                    max_per_img=int(cfg.get('max_per_img', 100)),
                    min_bbox_size=float(cfg.get('min_bbox_size', -1)))
