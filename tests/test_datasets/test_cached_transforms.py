"""CachedTransforms: the deterministic head of a pipeline runs once per image
and is replayed, so the samples an epoch yields stay the ones the plain
pipeline gives; random transforms are refused."""
import copy

import numpy as np
import pytest
import torch
from PIL import Image

from mnext_det.datasets import CachedTransforms

from .sample_equality import assert_same_samples

HEAD = [dict(type='DecodeImage'),
        dict(type='TorchvisionTransforms', transforms=[dict(type='Resize', size=16)])]


def _image(path, seed=0):
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)).save(path)
    return str(path)


def test_a_replay_equals_the_first_run_and_reads_no_file(tmp_path):
    path = _image(tmp_path / 'a.png')
    cached = CachedTransforms(HEAD)
    first = cached(dict(img_path=path, gt_label=1))
    assert tuple(first['img'].shape) == (3, 16, 21)
    (tmp_path / 'a.png').unlink()  # a replay must not need the file
    again = cached(dict(img_path=path, gt_label=1))
    assert torch.equal(again['img'], first['img']) and again['gt_label'] == 1
    again['img'].zero_()  # each replay is a copy: changing one leaves the cache alone
    assert torch.equal(cached(dict(img_path=path, gt_label=1))['img'], first['img'])
    assert cached.cached_bytes == first['img'].numel()


def test_beyond_max_bytes_samples_are_transformed_every_time(tmp_path):
    path = _image(tmp_path / 'a.png')
    cached = CachedTransforms(HEAD, max_bytes=0)
    cached(dict(img_path=path))
    (tmp_path / 'a.png').unlink()
    with pytest.raises(Exception, match='a.png'):
        cached(dict(img_path=path))
    assert cached.cached_bytes == 0


@pytest.mark.parametrize('transforms, named', [
    ([dict(type='DecodeImage'), dict(type='RandomFlip', prob=0.5)], "'RandomFlip'"),
    ([dict(type='mmdet.PhotoMetricDistortion')], "'PhotoMetricDistortion'"),
    ([dict(type='TorchvisionTransforms', transforms=[dict(type='Resize', size=8),
                                                     dict(type='RandomHorizontalFlip')])],
     "RandomHorizontalFlip"),
])
def test_random_transforms_are_refused_by_name(transforms, named):
    with pytest.raises(ValueError, match=named):
        CachedTransforms(transforms)


def test_a_built_torchvision_transform_is_checked_too():
    from mnext_det.datasets import TorchvisionTransforms
    built = TorchvisionTransforms([dict(type='Resize', size=8), dict(type='ColorJitter')])
    with pytest.raises(ValueError, match='ColorJitter'):
        CachedTransforms([dict(type='DecodeImage'), built])
    CachedTransforms([TorchvisionTransforms([dict(type='Resize', size=8)])])


def test_a_sample_without_its_key_is_named(tmp_path):
    cached = CachedTransforms(HEAD, key='filename')
    with pytest.raises(KeyError, match="no 'filename'.*img_path"):
        cached(dict(img_path=_image(tmp_path / 'a.png')))


def test_the_demo_detector_pipeline_cached_gives_the_plain_pipelines_samples(shapes):
    """The demo config's train pipeline with its first three steps cached
    against the pipeline as shipped, two epochs with the same seeds: equal
    images, boxes and meta (the second epoch replayed, RandomFlip drawn anew)."""
    from mmdet.registry import DATASETS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from ..conftest import ROOT, _coco_dataset
    init_default_scope('mmdet')
    cfg = Config.fromfile(f'{ROOT}/configs/demo/ssdlite_mobilenetv2-050_1xb8-10e_shapes-160.py')
    plain = cfg.train_dataloader.dataset.pipeline
    assert [t['type'] for t in plain[:3]] == ['LoadImageFromFile', 'LoadAnnotations', 'Resize']
    pipeline = [dict(type='CachedTransforms', transforms=copy.deepcopy(plain[:3]))] + \
        copy.deepcopy(plain[3:])
    datasets = [DATASETS.build(_coco_dataset(shapes, 'train', p)) for p in (pipeline, plain)]
    samples = assert_same_samples(*datasets)
    cached = datasets[0].pipeline.transforms[0]
    assert isinstance(cached, CachedTransforms) and len(cached._cache) == len(datasets[0])
    flips = [s['data_samples'].flip for s in samples]
    assert any(flips) and not all(flips)  # the flip stayed random
    heads = [cached.pipeline(datasets[0].get_data_info(i)) for i in range(len(datasets[0]))]
    assert all(type(h['gt_bboxes']).__name__ == 'HorizontalBoxes' for h in heads)
    assert cached.cached_bytes == sum(  # the boxes count towards max_bytes too
        sum(v.nbytes for v in h.values() if isinstance(v, np.ndarray))
        + h['gt_bboxes'].tensor.numel() * 4 for h in heads)
