"""SSD post-processing in numpy, for exported detectors.

The exported graph returns decoded boxes ``(A, 4)`` (x1, y1, x2, y2 in input
pixels, clipped to the input) and class scores ``(A, C)`` for all ``A``
anchors. :func:`ssd_postprocess` then does what mmdet's
``BaseDenseHead.predict_by_feat`` does after decoding, in the same order:

1. per feature level, keep (anchor, class) pairs with ``score > score_thr``
   and the ``nms_pre`` best of them;
2. divide boxes by ``scale_factor`` (input size / original image size);
3. drop boxes not wider and taller than ``min_bbox_size``;
4. class-wise NMS (IoU ``> iou_threshold`` suppresses), highest score first;
5. keep the ``max_per_img`` best.
"""
from typing import Dict, List, Sequence, Tuple

import numpy as np

__all__ = ['box_iou', 'nms', 'batched_nms', 'ssd_postprocess', 'raw_detections']


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one ``(4,)`` box with ``(N, 4)`` boxes (x1, y1, x2, y2)."""
    x1 = np.maximum(box[0], boxes[:, 0])
    y1 = np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[2], boxes[:, 2])
    y2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, np.finfo(np.float32).eps)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy NMS; returns kept indices, highest score first."""
    order = np.argsort(-scores, kind='stable')
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        order = rest[box_iou(boxes[i], boxes[rest]) <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def batched_nms(boxes: np.ndarray, scores: np.ndarray, labels: np.ndarray,
                iou_threshold: float) -> np.ndarray:
    """Class-wise NMS: boxes of different labels never suppress each other
    (each class is shifted by ``label * (max coordinate + 1)``, as mmcv and
    torchvision do)."""
    if boxes.shape[0] == 0:
        return np.zeros((0, ), dtype=np.int64)
    offsets = labels.astype(boxes.dtype) * (boxes.max() + 1)
    return nms(boxes + offsets[:, None], scores, iou_threshold)


def ssd_postprocess(boxes: np.ndarray,
                    scores: np.ndarray,
                    level_sizes: Sequence[int],
                    score_thr: float,
                    nms_pre: int,
                    iou_threshold: float,
                    max_per_img: int,
                    min_bbox_size: float = 0.,
                    scale_factor: Tuple[float, float] = (1., 1.)) -> Dict[str, np.ndarray]:
    """Turn one image's raw detector outputs into detections.

    Args:
        boxes: ``(A, 4)`` decoded boxes in input pixels.
        scores: ``(A, C)`` class scores (no background column).
        level_sizes: Anchors per feature level, summing to ``A``.
        score_thr: Minimum score (exclusive).
        nms_pre: Candidates kept per level before NMS (``<= 0``: all).
        iou_threshold: NMS IoU threshold.
        max_per_img: Detections kept after NMS.
        min_bbox_size: Boxes must be wider and taller than this (``< 0``:
            no filter).
        scale_factor: ``(w_scale, h_scale)`` of the resize from the original
            image to the input; boxes are divided by it.

    Returns:
        ``dict(bboxes=(K, 4) float32, scores=(K,) float32, labels=(K,) int64)``,
        sorted by score, in original-image pixels.
    """
    if sum(level_sizes) != boxes.shape[0] or scores.shape[0] != boxes.shape[0]:
        raise ValueError(f'level_sizes sum to {sum(level_sizes)} but there are '
                         f'{boxes.shape[0]} boxes and {scores.shape[0]} score rows')
    keep_boxes, keep_scores, keep_labels = [], [], []
    start = 0
    for size in level_sizes:
        level = scores[start:start + size]
        anchor_idx, label = np.nonzero(level > score_thr)
        level_scores = level[anchor_idx, label]
        order = np.argsort(-level_scores, kind='stable')
        if nms_pre > 0:
            order = order[:nms_pre]
        keep_boxes.append(boxes[start + anchor_idx[order]])
        keep_scores.append(level_scores[order])
        keep_labels.append(label[order])
        start += size
    det_boxes = np.concatenate(keep_boxes).astype(np.float32)
    det_scores = np.concatenate(keep_scores).astype(np.float32)
    det_labels = np.concatenate(keep_labels).astype(np.int64)
    det_boxes /= np.asarray(tuple(scale_factor) * 2, dtype=np.float32)
    if min_bbox_size >= 0:
        wh = det_boxes[:, 2:] - det_boxes[:, :2]
        valid = (wh > min_bbox_size).all(axis=1)
        det_boxes, det_scores, det_labels = det_boxes[valid], det_scores[valid], det_labels[valid]
    keep = batched_nms(det_boxes, det_scores, det_labels, iou_threshold)[:max_per_img]
    return dict(bboxes=det_boxes[keep], scores=det_scores[keep], labels=det_labels[keep])


def raw_detections(boxes: np.ndarray, scores: np.ndarray,
                   scale_factors: Sequence[Tuple[float, float]],
                   meta: Dict) -> List[Dict[str, np.ndarray]]:
    """:func:`ssd_postprocess` of a raw exported detector's batch outputs
    (``(N, A, 4)`` boxes, ``(N, A, C)`` scores), with the post-processing
    settings of its metadata and one ``(w_scale, h_scale)`` per image."""
    return [ssd_postprocess(b, s, scale_factor=scale, **meta['postprocess'])
            for b, s, scale in zip(boxes, scores, scale_factors)]
