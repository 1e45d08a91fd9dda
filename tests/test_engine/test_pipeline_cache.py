"""PipelineCacheHook: the demo detector's train pipeline gets its decoding,
boxes and resize cached when training starts, inside the dataset wrappers
tools/train.py adds, and yields the plain pipeline's samples; a loader whose
workers restart every epoch is left alone."""
from types import SimpleNamespace

import pytest

from mnext_det.datasets import CachedTransforms, ValidatedDataset
from mnext_det.engine import PipelineCacheHook, cache_pipeline_head

from ..conftest import ROOT, _coco_dataset
from ..test_datasets.sample_equality import assert_same_samples

pytest.importorskip('mmdet')


def _demo_datasets(shapes, n=2):
    from mmdet.registry import DATASETS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    cfg = Config.fromfile(f'{ROOT}/configs/demo/ssdlite_mobilenetv2-050_1xb8-8e_shapes-160.py')
    assert 'PipelineCacheHook' in [h['type'] for h in cfg.custom_hooks]
    return [DATASETS.build(_coco_dataset(shapes, 'train', cfg.train_dataloader.dataset.pipeline))
            for _ in range(n)]


def _runner(dataset, num_workers=0, persistent_workers=False):
    return SimpleNamespace(train_dataloader=SimpleNamespace(
        dataset=dataset, num_workers=num_workers, persistent_workers=persistent_workers))


def test_the_hook_caches_the_head_inside_wrappers_and_keeps_the_samples(shapes):
    cached, plain = _demo_datasets(shapes)
    PipelineCacheHook().before_train(_runner(ValidatedDataset(cached)))
    head, *rest = cached.pipeline.transforms
    assert isinstance(head, CachedTransforms)
    assert [type(t).__name__ for t in head.pipeline.transforms] == \
        ['LoadImageFromFile', 'LoadAnnotations', 'Resize']
    assert [type(t).__name__ for t in rest] == ['RandomFlip', 'PackDetInputs']
    assert_same_samples(cached, plain)
    assert len(head._cache) == len(cached)
    assert cache_pipeline_head(cached) == []  # cached already: left as it is


def test_workers_that_restart_every_epoch_get_no_cache(shapes):
    dataset, = _demo_datasets(shapes, n=1)
    before = list(dataset.pipeline.transforms)
    PipelineCacheHook().before_train(_runner(dataset, num_workers=1))
    assert dataset.pipeline.transforms == before
    PipelineCacheHook().before_train(_runner(dataset, num_workers=1, persistent_workers=True))
    assert isinstance(dataset.pipeline.transforms[0], CachedTransforms)


def test_a_pipeline_that_starts_random_is_left_alone_and_no_pipeline_is_named():
    from mmengine.dataset import Compose
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    pipeline = Compose([dict(type='RandomFlip', prob=0.5), dict(type='Resize', scale=(8, 8))])
    assert cache_pipeline_head(SimpleNamespace(pipeline=pipeline)) == []
    assert type(pipeline.transforms[0]).__name__ == 'RandomFlip'
    with pytest.raises(TypeError, match='list has no pipeline'):
        cache_pipeline_head([1, 2])


def test_each_dataset_of_a_concat_dataset_is_cached(shapes):
    from mmengine.dataset import ConcatDataset
    first, second = _demo_datasets(shapes)
    names = cache_pipeline_head(ConcatDataset([first, second]))
    assert names == ['LoadImageFromFile', 'LoadAnnotations', 'Resize']
    assert all(isinstance(d.pipeline.transforms[0], CachedTransforms) for d in (first, second))
