"""SSD anchor coverage of a detection config's training boxes, and anchor
sizes proposed from the boxes' scales.

mmdet's ``optimize_anchors.py`` handles ``YOLOAnchorGenerator`` only; this
measures what matters for ``SSDAnchorGenerator``: the fraction of training
boxes whose best anchor (on the real anchor grid, at the model's input size)
reaches the head's positive IoU threshold. Needs mmdet.
"""
from dataclasses import dataclass
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DATASETS, MODELS, TASK_UTILS, init_default_scope

from ..config_file import read_config
from ..config_types import type_name
from ..datasets.pipeline_info import innermost_dataset, input_size_of

__all__ = ['AnchorReport', 'training_boxes', 'anchor_coverage', 'propose_ssd_sizes',
           'analyze_ssd_anchors']


@dataclass
class AnchorReport:
    """Current and proposed SSD anchor sizes with their coverage."""
    input_size: Tuple[int, int]
    featmap_sizes: List[Tuple[int, int]]
    num_boxes: int
    iou_thr: float
    current: Dict[str, List[float]]
    proposed: Dict[str, List[float]]
    current_coverage: float
    proposed_coverage: float


def training_boxes(cfg: Config) -> List[np.ndarray]:
    """Per training image, its boxes ``(x1, y1, x2, y2)`` scaled to the test
    input size (the demo and COCO configs resize without keeping the ratio)."""
    dataset = DATASETS.build(innermost_dataset(cfg.train_dataloader.dataset))
    width, height = input_size_of(cfg)
    boxes = []
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        scale = np.array([width / info['width'], height / info['height']] * 2, np.float32)
        boxes.append(np.array([inst['bbox'] for inst in info['instances']
                               if not inst.get('ignore_flag', 0)], np.float32).reshape(-1, 4) *
                     scale)
    return boxes


def _level_best_iou(generator: Dict[str, Any], level: int, featmap_size: Tuple[int, int],
                    sizes: Tuple[float, float], boxes: torch.Tensor) -> np.ndarray:
    """Each box's best IoU with the anchors of one level at ``sizes``
    (min_size, max_size)."""
    from mmdet.structures.bbox import bbox_overlaps
    one = dict(generator, strides=[generator['strides'][level]],
               ratios=[generator['ratios'][level]], min_sizes=[sizes[0]], max_sizes=[sizes[1]])
    anchors = TASK_UTILS.build(one).grid_priors([featmap_size], device='cpu')[0]
    return bbox_overlaps(boxes, anchors).max(dim=1).values.numpy()


def anchor_coverage(generator: Dict[str, Any], featmap_sizes: Sequence[Tuple[int, int]],
                    boxes: Sequence[np.ndarray], iou_thr: float) -> float:
    """Fraction of ``boxes`` whose best anchor has IoU >= ``iou_thr``."""
    flat = _flatten(boxes)
    best = np.max([_level_best_iou(generator, k, size, pair, flat) for k, (size, pair) in
                   enumerate(zip(featmap_sizes, zip(generator['min_sizes'],
                                                    generator['max_sizes'])))], axis=0)
    return float((best >= iou_thr).mean())


def _flatten(boxes: Sequence[np.ndarray]) -> torch.Tensor:
    flat = np.concatenate([b for b in boxes if len(b)] or [np.zeros((0, 4), np.float32)])
    if not len(flat):
        raise ValueError('the training set has no boxes to cover')
    return torch.from_numpy(flat)


def propose_ssd_sizes(generator: Dict[str, Any], featmap_sizes: Sequence[Tuple[int, int]],
                      boxes: Sequence[np.ndarray], iou_thr: float,
                      rounds: int = 5) -> Dict[str, List[float]]:
    """``min_sizes`` / ``max_sizes`` that raise the coverage, same strides and
    ratios: coordinate ascent over the levels from the current sizes, each
    level choosing among 16 geometric min sizes (from the 5th percentile to
    the largest box scale) times max/min in {1.25, 1.6, 2}. Never lower
    than the current coverage (the current pair is a candidate)."""
    flat = _flatten(boxes)
    scales = np.sqrt(((flat[:, 2:] - flat[:, :2]).clamp(min=1)).prod(dim=1).numpy())
    mins = np.geomspace(max(np.percentile(scales, 5), 2.0), scales.max(), 16)
    current = list(zip(generator['min_sizes'], generator['max_sizes']))
    candidates = [[current[k]] + [(round(m, 1), round(m * r, 1)) for m in mins
                                  for r in (1.25, 1.6, 2.0)] for k in range(len(current))]
    ious = [np.stack([_level_best_iou(generator, k, featmap_sizes[k], pair, flat)
                      for pair in level]) for k, level in enumerate(candidates)]
    choice = [0] * len(current)
    for _ in range(rounds):
        changed = False
        for k in range(len(choice)):
            others = np.max([ious[j][c] for j, c in enumerate(choice) if j != k] or
                            [np.zeros(len(flat))], axis=0)
            hits = (np.maximum(ious[k], others) >= iou_thr).sum(axis=1)
            if hits.max() > hits[choice[k]]:
                choice[k], changed = int(hits.argmax()), True
        if not changed:
            break
    pairs = [candidates[k][c] for k, c in enumerate(choice)]
    return dict(min_sizes=[float(p[0]) for p in pairs], max_sizes=[float(p[1]) for p in pairs])


def analyze_ssd_anchors(config: str, iou_thr: float = None) -> AnchorReport:
    """Coverage of ``config``'s SSD anchors and of sizes proposed from its
    training boxes (same strides and ratios); ``iou_thr`` defaults to the
    head's assigner ``pos_iou_thr``."""
    cfg = read_config(config)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    head = cfg.model.bbox_head
    generator = dict(head.anchor_generator)
    if type_name(generator.get('type')) != 'SSDAnchorGenerator':
        raise ValueError(f'{config}: model.bbox_head.anchor_generator.type is '
                         f'{generator.get("type")!r}; this tool measures SSDAnchorGenerator '
                         '(use mmdet\'s optimize_anchors.py for YOLOAnchorGenerator)')
    if iou_thr is None:
        iou_thr = float(cfg.model.train_cfg.assigner.pos_iou_thr)
    if not 0 < iou_thr <= 1:
        raise ValueError(f'iou_thr (--iou-thr) is an IoU in (0, 1], got {iou_thr}')
    width, height = input_size_of(cfg)
    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        feats = model.extract_feat(torch.zeros(1, 3, height, width))
    featmap_sizes = [tuple(f.shape[-2:]) for f in feats]
    boxes = training_boxes(cfg)
    proposed = propose_ssd_sizes(generator, featmap_sizes, boxes, iou_thr)
    current = dict(min_sizes=list(generator['min_sizes']), max_sizes=list(generator['max_sizes']))
    return AnchorReport(
        input_size=(height, width), featmap_sizes=featmap_sizes,
        num_boxes=sum(len(b) for b in boxes), iou_thr=iou_thr, current=current,
        proposed=proposed,
        current_coverage=anchor_coverage(generator, featmap_sizes, boxes, iou_thr),
        proposed_coverage=anchor_coverage({**generator, **proposed}, featmap_sizes, boxes,
                                          iou_thr))
