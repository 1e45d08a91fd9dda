"""The generated shapes data through real mmdet datasets and metrics, in COCO
and VOC layout: training whose loss falls, checkpoints, test runs, and ground
truth scoring AP 1.0."""
import copy
import json
import time

import numpy as np
import pytest
import torch

pytest.importorskip('mmdet')
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from mnext_det.datasets.synthetic import SHAPE_CLASSES  # noqa: E402

from ..conftest import _coco_dataset, _voc_dataset  # noqa: E402


GT_PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True),
               dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape',
                                                     'img_shape', 'scale_factor'))]


def _losses(work_dir):
    path = next(iter(sorted((work_dir).glob('*/vis_data/scalars.json'))))
    with open(path) as f:
        return [json.loads(line)['loss'] for line in f if '"loss"' in line]


@pytest.mark.parametrize('layout', ['coco', 'voc'])
def test_training_loss_falls_and_checkpoint_is_written(trained, layout):
    _, work_dir = trained[layout]
    losses = _losses(work_dir)
    assert len(losses) == 10 and all(np.isfinite(losses))
    # over data and init seeds 0-9 this ratio is 0.84-0.93, and 0.98-1.02 at lr 0 (the
    # batches' own spread): 0.95 lies between
    assert np.mean(losses[-3:]) < 0.95 * np.mean(losses[:3])
    assert (work_dir / 'epoch_5.pth').is_file()


@pytest.mark.parametrize('layout', ['coco', 'voc'])
def test_test_run_from_checkpoint_gives_sane_metrics(trained, layout):
    cfg, work_dir = trained[layout]
    cfg = copy.deepcopy(cfg)
    cfg.load_from = str(work_dir / 'epoch_5.pth')
    cfg.experiment_name = cfg.visualizer.name = f'test_{layout}_{time.time_ns()}'
    metrics = Runner.from_cfg(cfg).test()
    key = 'coco/bbox_mAP' if layout == 'coco' else 'pascal_voc/mAP'
    assert key in metrics and 0.0 <= metrics[key] <= 1.0
    if layout == 'coco':
        assert {f'coco/{c}_precision' for c in SHAPE_CLASSES} <= set(metrics)


@pytest.mark.parametrize('layout', ['coco', 'voc'])
def test_ground_truth_as_predictions_scores_ap_1(shapes, layout):
    init_default_scope('mmdet')
    from mmdet.registry import DATASETS, METRICS
    make = _coco_dataset if layout == 'coco' else _voc_dataset
    dataset = DATASETS.build(dict(make(shapes, 'val', GT_PIPELINE), test_mode=True))
    metric = METRICS.build(
        dict(type='CocoMetric', ann_file=shapes + 'annotations/instances_val.json',
             metric='bbox') if layout == 'coco' else
        dict(type='VOCMetric', metric='mAP', eval_mode='11points'))
    metric.dataset_meta = dataset.metainfo
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        gt = sample.gt_instances
        sample.pred_instances = gt.new(bboxes=gt.bboxes.tensor.float(), labels=gt.labels,
                                       scores=torch.ones(len(gt)))
        metric.process({}, [sample.to_dict()])
    result = metric.evaluate(len(dataset))
    key = 'coco/bbox_mAP' if layout == 'coco' else 'pascal_voc/mAP'
    assert result[key] == pytest.approx(1.0)
