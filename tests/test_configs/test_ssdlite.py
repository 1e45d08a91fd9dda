"""Every detection config: builds, runs, differs from its baseline only where
it should."""
import glob
import os.path as osp

import pytest
import torch

pytest.importorskip('mmdet')
from mmdet.registry import MODELS  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

from mnext_det.study.config_diff import differing_keys, flatten, unfair_differences  # noqa: E402

from ..conftest import ROOT  # noqa: E402


DET_CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', 'ssdlite', '*.py')) +
                     glob.glob(osp.join(ROOT, 'configs', 'demo', 'ssdlite_*.py')))
PAIRS = [('configs/ssdlite/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py',
          'configs/ssdlite/ssdlite_mobilenext-100-scratch_8xb24-600e_coco.py'),
         ('configs/ssdlite/ssdlite_mobilenetv2-scratch_8xb24-360e_voc0712.py',
          'configs/ssdlite/ssdlite_mobilenext-100-scratch_8xb24-360e_voc0712.py'),
         ('configs/demo/ssdlite_mobilenetv2-050_1xb8-10e_shapes-160.py',
          'configs/demo/ssdlite_mobilenext-050_1xb8-10e_shapes-160.py'),
         ('configs/demo/ssdlite_mobilenetv2-050_1xb8-7e_shapes-160.py',
          'configs/demo/ssdlite_mobilenext-050_1xb8-7e_shapes-160.py'),
         ('configs/demo/ssdlite_mobilenetv2-050_1xb8-8e_shapes-160.py',
          'configs/demo/ssdlite_mobilenext-050_1xb8-8e_shapes-160.py'),
         ('configs/demo/ssdlite_mobilenetv2-050-cropspre_1xb16-10e_shapes-160.py',
          'configs/demo/ssdlite_mobilenext-050-cropspre_1xb16-10e_shapes-160.py'),
         ('configs/demo/ssdlite_mobilenetv2-050-cropspre_1xb16-10e-sqrtlr_shapes-160.py',
          'configs/demo/ssdlite_mobilenext-050-cropspre_1xb16-10e-sqrtlr_shapes-160.py'),
         ('configs/demo/ssdlite_mobilenetv2-050_1xb8-10e_fashion-scenes-160.py',
          'configs/demo/ssdlite_mobilenext-050_1xb8-10e_fashion-scenes-160.py'),
         ('configs/demo/ssdlite_mobilenetv2-050_1xb16-10e-sqrtlr_fashion-scenes-160.py',
          'configs/demo/ssdlite_mobilenext-050_1xb16-10e-sqrtlr_fashion-scenes-160.py'),
         ('configs/ssdlite/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py',
          'configs/ssdlite/ssdlite_mobilenetv2-exptap-scratch_8xb24-600e_coco.py')]
# MobileNetV2 tapped as Sandler et al. tap it: the same head input as MobileNeXt's
SAME_TAP_PAIRS = [('configs/ssdlite/ssdlite_mobilenetv2-exptap-scratch_8xb24-600e_coco.py',
                   'configs/ssdlite/ssdlite_mobilenext-100-scratch_8xb24-600e_coco.py'),
                  ('configs/demo/ssdlite_mobilenetv2-050-exptap_1xb8-10e_shapes-160.py',
                   'configs/demo/ssdlite_mobilenext-050_1xb8-10e_shapes-160.py'),
                  ('configs/demo/ssdlite_mobilenetv2-050-exptap_1xb8-10e_fashion-scenes-160.py',
                   'configs/demo/ssdlite_mobilenext-050_1xb8-10e_fashion-scenes-160.py')]


@pytest.mark.parametrize('config', DET_CONFIGS, ids=osp.basename)
def test_detection_config_builds_and_runs(config):
    cfg = Config.fromfile(config)
    assert cfg.default_scope == 'mmdet'
    # one entry registers the neck, head and engine hooks (tools/train.py swaps them in)
    assert cfg.custom_imports['imports'] == ['mnext_det.detection']
    assert cfg.auto_scale_lr.base_batch_size > 0
    assert cfg.model.bbox_head.type == 'SSDLiteHead'
    init_default_scope('mmdet')
    model = MODELS.build(cfg.model).eval()
    size = cfg.test_dataloader.dataset.pipeline[1]['scale']
    with torch.no_grad():
        feats = model.extract_feat(torch.rand(1, 3, size[1], size[0]))
    assert [f.shape[1] for f in feats] == list(cfg.model.bbox_head.in_channels)
    assert len(feats) == model.bbox_head.prior_generator.num_levels
    assert feats[-1].shape[-2:] == (1, 1)


@pytest.mark.parametrize('config', DET_CONFIGS, ids=osp.basename)
def test_backbone_init_cfg_entries_build(config):
    # init_cfg runs only when training starts: a bad entry must fail here instead
    from mmengine.model.weight_init import PretrainedInit
    from mmengine.registry import WEIGHT_INITIALIZERS
    init = Config.fromfile(config).model.backbone.get('init_cfg') or []
    for entry in [init] if isinstance(init, dict) else init:
        initializer = WEIGHT_INITIALIZERS.build(entry)
        if isinstance(initializer, PretrainedInit):
            assert set(entry) <= {'type', 'checkpoint', 'prefix', 'map_location'}, entry


@pytest.mark.parametrize('baseline,mnext', PAIRS, ids=lambda p: osp.basename(p)[:30])
def test_pairs_differ_only_in_backbone_and_taps(baseline, mnext):
    cfg_a = Config.fromfile(osp.join(ROOT, baseline)).to_dict()
    cfg_b = Config.fromfile(osp.join(ROOT, mnext)).to_dict()
    assert unfair_differences(cfg_a, cfg_b) == set()
    differ = {k for k in differing_keys(cfg_a, cfg_b) if not k.startswith('model.backbone.')}
    assert differ == {'model.neck.in_channels', 'model.neck.out_channels',
                      'model.bbox_head.in_channels'}
    a, b = flatten(cfg_a), flatten(cfg_b)
    for key in ('model.neck.out_channels', 'model.bbox_head.in_channels'):
        assert a[key][1:] == b[key][1:]  # only the stride-16 tap's channels differ
    assert a['model.neck.in_channels'][1:] == b['model.neck.in_channels'][1:]


@pytest.mark.parametrize('baseline,mnext', SAME_TAP_PAIRS, ids=lambda p: osp.basename(p)[:30])
def test_same_tap_pairs_differ_in_the_backbone_only(baseline, mnext):
    cfg_a = Config.fromfile(osp.join(ROOT, baseline)).to_dict()
    cfg_b = Config.fromfile(osp.join(ROOT, mnext)).to_dict()
    assert unfair_differences(cfg_a, cfg_b) == set()
    assert {k for k in differing_keys(cfg_a, cfg_b) if not k.startswith('model.backbone.')} \
        == set()


@pytest.mark.parametrize('epochs', [7, 8])
@pytest.mark.parametrize('name', ['mobilenetv2-050', 'mobilenext-050'])
def test_shorter_demo_configs_change_the_schedule_only(name, epochs):
    # make study-demo-epochs: the 10-epoch config with its cosine schedule over fewer epochs
    e10 = Config.fromfile(osp.join(ROOT, f'configs/demo/ssdlite_{name}_1xb8-10e_shapes-160.py'))
    short = Config.fromfile(
        osp.join(ROOT, f'configs/demo/ssdlite_{name}_1xb8-{epochs}e_shapes-160.py'))
    assert set(differing_keys(e10.to_dict(), short.to_dict())) == {
        'max_epochs', 'train_cfg.max_epochs', 'param_scheduler'}
    assert short.max_epochs == short.train_cfg.max_epochs == epochs
    warmup, cosine = short.param_scheduler
    assert warmup == e10.param_scheduler[0]
    assert cosine.T_max == cosine.end == epochs
    assert {**cosine, 'T_max': 10, 'end': 10} == e10.param_scheduler[1]


@pytest.mark.parametrize('name', ['mobilenetv2-050-cropspre', 'mobilenext-050-cropspre'])
def test_batch16_configs_change_the_batch_and_lr_only(name):
    # make study-batch: the batch-8 config at batch 16, lr scaled linearly
    b8 = Config.fromfile(osp.join(ROOT, f'configs/demo/ssdlite_{name}_1xb8-10e_shapes-160.py'))
    b16 = Config.fromfile(osp.join(ROOT, f'configs/demo/ssdlite_{name}_1xb16-10e_shapes-160.py'))
    assert set(differing_keys(b8.to_dict(), b16.to_dict())) == {
        'train_dataloader.batch_size', 'optim_wrapper.optimizer.lr',
        'auto_scale_lr.base_batch_size'}
    assert b16.train_dataloader.batch_size == b16.auto_scale_lr.base_batch_size == 16
    scale = b16.train_dataloader.batch_size / b8.train_dataloader.batch_size
    assert b16.optim_wrapper.optimizer.lr == pytest.approx(scale * b8.optim_wrapper.optimizer.lr)


@pytest.mark.parametrize('name', ['mobilenetv2-050-cropspre', 'mobilenext-050-cropspre'])
def test_sqrtlr_configs_change_the_lr_only(name):
    # make study-batch-sqrtlr: the batch-16 config with the lr scaled by sqrt(16 / 8)
    b8 = Config.fromfile(osp.join(ROOT, f'configs/demo/ssdlite_{name}_1xb8-10e_shapes-160.py'))
    b16 = Config.fromfile(osp.join(ROOT, f'configs/demo/ssdlite_{name}_1xb16-10e_shapes-160.py'))
    sqrt = Config.fromfile(
        osp.join(ROOT, f'configs/demo/ssdlite_{name}_1xb16-10e-sqrtlr_shapes-160.py'))
    assert set(differing_keys(b16.to_dict(), sqrt.to_dict())) == {'optim_wrapper.optimizer.lr'}
    scale = sqrt.train_dataloader.batch_size / b8.train_dataloader.batch_size
    # written with two significant digits: 2e-3 x 1.414 = 2.83e-3 -> 2.8e-3
    assert sqrt.optim_wrapper.optimizer.lr == pytest.approx(
        scale ** 0.5 * b8.optim_wrapper.optimizer.lr, rel=0.02)


@pytest.mark.parametrize('name', ['mobilenetv2-050', 'mobilenext-050'])
def test_fashion_batch16_configs_change_the_batch_and_lr_only(name):
    # make study-fashion-batch: the shapes' batch-16 recipe (lr scaled by sqrt(16 / 8))
    b8 = Config.fromfile(
        osp.join(ROOT, f'configs/demo/ssdlite_{name}_1xb8-10e_fashion-scenes-160.py'))
    b16 = Config.fromfile(
        osp.join(ROOT, f'configs/demo/ssdlite_{name}_1xb16-10e-sqrtlr_fashion-scenes-160.py'))
    shapes = Config.fromfile(osp.join(
        ROOT, f'configs/demo/ssdlite_{name}-cropspre_1xb16-10e-sqrtlr_shapes-160.py'))
    assert set(differing_keys(b8.to_dict(), b16.to_dict())) == {
        'train_dataloader.batch_size', 'optim_wrapper.optimizer.lr',
        'auto_scale_lr.base_batch_size'}
    assert b16.train_dataloader.batch_size == b16.auto_scale_lr.base_batch_size == 16
    assert b16.optim_wrapper.optimizer.lr == shapes.optim_wrapper.optimizer.lr


@pytest.mark.parametrize('name', ['mobilenetv2-050', 'mobilenetv2-050-exptap', 'mobilenext-050'])
def test_fashion_scenes_configs_change_the_data_only(name):
    from mnext_det.datasets.fashion_mnist import CLASSES
    shapes = Config.fromfile(osp.join(
        ROOT, f'configs/demo/ssdlite_{name}_1xb8-10e_shapes-160.py')).to_dict()
    fashion = Config.fromfile(osp.join(
        ROOT, f'configs/demo/ssdlite_{name}_1xb8-10e_fashion-scenes-160.py')).to_dict()
    assert fashion['classes'] == CLASSES and fashion['model']['bbox_head']['num_classes'] == 10
    data = ('data_root', 'classes', 'metainfo', 'model.bbox_head.num_classes',
            'train_dataloader.dataset.', 'val_dataloader.dataset.', 'test_dataloader.dataset.',
            'val_evaluator.ann_file', 'test_evaluator.ann_file')
    assert {k for k in differing_keys(shapes, fashion) if not k.startswith(data)} == set()
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = fashion[loader]['dataset']
        assert dataset['data_root'] == 'data/fashion-scenes/'
        assert dataset['data_prefix'] == dict(img='images/')
        assert dataset['metainfo']['classes'] == CLASSES
    assert fashion['val_evaluator']['ann_file'] == \
        'data/fashion-scenes/annotations/instances_val.json'
