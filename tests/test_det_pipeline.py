"""Real mmdet datasets and metrics on generated fixtures in COCO and VOC layout:
training whose loss falls, checkpoints, test runs, ground truth scoring AP 1.0,
the comparison report, and clear errors on bad data before training."""
import copy
import dataclasses
import json
import os.path as osp
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

pytest.importorskip('mmdet')
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from mnext_det.datasets.checks.preflight import DataCheckError, check_detection_data  # noqa
from mnext_det.datasets.synthetic import SHAPE_CLASSES, SyntheticConfig, generate_shapes_dataset

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO = osp.join(ROOT, 'configs', 'demo', 'ssdlite_mobilenext-050_1xb8-shapes-160.py')
GT_PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True),
               dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape',
                                                     'img_shape', 'scale_factor'))]


@pytest.fixture(scope='module')
def shapes(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('shapes'))
    generate_shapes_dataset(root, SyntheticConfig(num_train=8, num_val=4, num_test=0, image_size=160,
                                                  max_objects=4), progress=False)
    return root + '/'


def _coco_dataset(root, split, pipeline):
    return dict(type='CocoDataset', data_root=root, metainfo=dict(classes=SHAPE_CLASSES),
                ann_file=f'annotations/instances_{split}.json',
                data_prefix=dict(img='VOC2007/JPEGImages/'), pipeline=pipeline)


def _voc_dataset(root, split, pipeline):
    return dict(type='VOCDataset', data_root=root, metainfo=dict(classes=SHAPE_CLASSES),
                ann_file=f'VOC2007/ImageSets/Main/{split}.txt',
                data_prefix=dict(sub_data_root='VOC2007/'), pipeline=pipeline)


def _config(root, layout, work_dir):
    cfg = Config.fromfile(DEMO)
    make = _coco_dataset if layout == 'coco' else _voc_dataset
    cfg.train_dataloader.update(batch_size=4, num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset = make(root, 'train', cfg.train_pipeline)
    for loader in ('val_dataloader', 'test_dataloader'):
        cfg[loader].update(batch_size=4, num_workers=0, persistent_workers=False)
        cfg[loader].dataset = dict(make(root, 'val', cfg.test_pipeline), test_mode=True)
    evaluator = (dict(type='CocoMetric', ann_file=root + 'annotations/instances_val.json',
                      metric='bbox', classwise=True) if layout == 'coco' else
                 dict(type='VOCMetric', metric='mAP', eval_mode='11points'))
    cfg.val_evaluator = cfg.test_evaluator = evaluator
    cfg.train_cfg.update(max_epochs=5, val_begin=100)
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0)]
    cfg.optim_wrapper.optimizer.lr = 4e-3  # a fall visible within 10 steps of this run
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.update(interval=5)
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = f'{layout}_{time.time_ns()}'
    cfg.visualizer.name = cfg.experiment_name  # one visualizer (and scalars file) per run
    return cfg


def _losses(work_dir):
    path = next(iter(sorted((work_dir).glob('*/vis_data/scalars.json'))))
    with open(path) as f:
        return [json.loads(line)['loss'] for line in f if '"loss"' in line]


@pytest.fixture(scope='module')
def trained(shapes, tmp_path_factory):
    """Train briefly on both layouts; return {layout: (cfg, work_dir)}."""
    out = {}
    for layout in ('coco', 'voc'):
        work_dir = tmp_path_factory.mktemp(f'train_{layout}')
        cfg = _config(shapes, layout, work_dir)
        check_detection_data(cfg)
        Runner.from_cfg(cfg).train()
        out[layout] = (cfg, work_dir)
    return out


@pytest.mark.parametrize('layout', ['coco', 'voc'])
def test_training_loss_falls_and_checkpoint_is_written(trained, layout):
    _, work_dir = trained[layout]
    losses = _losses(work_dir)
    assert len(losses) == 10 and all(np.isfinite(losses))
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


def test_comparison_report(trained, tmp_path):
    from mnext_det.evaluation.comparison import (evaluate_detector, format_markdown,
                                                 plot_chart, resolve_work_dir, write_json)
    cfg, work_dir = trained['coco']
    cfg_file = tmp_path / 'det.py'
    cfg.dump(str(cfg_file))
    ckpt = str(work_dir / 'epoch_5.pth')
    base = evaluate_detector(str(cfg_file), ckpt, name='base', work_dir=str(tmp_path),
                             dataset_from=cfg, latency_runs=2)
    better = dict(base.metrics, bbox_mAP=base.metrics['bbox_mAP'] + 0.25)
    other = dataclasses.replace(base, name='other', latency_ms=2 * base.latency_ms,
                                metrics=better)
    results = [base, other]
    assert set(results[0].per_class) == set(SHAPE_CLASSES)
    assert results[0].params_M > 0.5 and results[0].madds_G > 0.01
    table = format_markdown(results)
    assert '| base | 160x160 |' in table and '(+0.250)' in table and '(x2.00)' in table
    assert '| star |' in table
    write_json(results, str(tmp_path / 'r.json'))
    plot_chart(results, str(tmp_path / 'r.png'))
    assert json.load(open(tmp_path / 'r.json'))['summary'][1]['d_AP'] == pytest.approx(0.25)
    assert (tmp_path / 'r.png').stat().st_size > 1000
    with pytest.raises(FileNotFoundError, match='work dir not found'):
        resolve_work_dir(str(tmp_path / 'missing'))


def test_work_dir_with_a_leftover_config_resolves_to_the_checkpoints_run(tmp_path):
    from mnext_det.evaluation.comparison import resolve_work_dir
    ckpt = tmp_path / 'epoch_2.pth'
    torch.save(dict(meta=dict(experiment_name='ssdlite_mobilenext_20261201_101500'),
                    state_dict={}), ckpt)
    (tmp_path / 'last_checkpoint').write_text(str(ckpt))
    for name in ('ssdlite_mobilenext.py', 'an_earlier_failed_run.py'):
        (tmp_path / name).write_text('model = dict()\n')
    assert resolve_work_dir(str(tmp_path)) == (str(tmp_path / 'ssdlite_mobilenext.py'),
                                               str(ckpt))
    (tmp_path / 'ssdlite_mobilenext.py').unlink()
    (tmp_path / 'another_leftover.py').write_text('model = dict()\n')
    with pytest.raises(ValueError, match="names none of them.*'ssdlite_mobilenext'"):
        resolve_work_dir(str(tmp_path))


def test_bad_data_errors_name_the_problem(shapes, tmp_path):
    cfg = _config(shapes, 'coco', tmp_path)
    missing = copy.deepcopy(cfg)
    missing.train_dataloader.dataset.data_root = str(tmp_path / 'nowhere')
    with pytest.raises(FileNotFoundError, match='train_dataloader.dataset.data_root.*nowhere'):
        check_detection_data(missing)
    voc_xml = copy.deepcopy(cfg)
    not_coco = tmp_path / 'labels.json'
    not_coco.write_text(json.dumps([{'file': 'a.jpg', 'box': [1, 2, 3, 4]}]))
    voc_xml.train_dataloader.dataset.ann_file = str(not_coco)
    with pytest.raises(DataCheckError, match='not a COCO annotation file'):
        check_detection_data(voc_xml)
    wrong = copy.deepcopy(cfg)
    wrong.model.bbox_head.num_classes = 5
    with pytest.raises(DataCheckError, match='num_classes is 5 but .* has 6 classes'):
        check_detection_data(wrong)
    voc = _config(shapes, 'voc', tmp_path)
    voc.model.bbox_head.num_classes = 20
    with pytest.raises(DataCheckError, match='num_classes is 20'):
        check_detection_data(voc)


def test_train_tool_fails_before_training_on_missing_data(shapes, tmp_path):
    cfg = _config(shapes, 'coco', tmp_path / 'wd')
    cfg.train_dataloader.dataset.data_root = str(tmp_path / 'nowhere')
    cfg.dump(str(tmp_path / 'bad.py'))
    proc = subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'train.py'),
                           str(tmp_path / 'bad.py')], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert proc.returncode != 0
    assert 'dataset folder not found' in proc.stderr and 'nowhere' in proc.stderr
    assert not (tmp_path / 'wd').exists()  # no runner was built
