"""The built-in shapes dataset: the same files whatever the number of workers."""
import filecmp
import json
import os
import os.path as osp

import pytest

from mnext_det.datasets.synthetic import SyntheticConfig, dataset_exists, generate_shapes_dataset

CFG = SyntheticConfig(num_train=10, num_val=4, num_test=3, image_size=96, max_objects=4, seed=3)


def _files(root):
    return sorted(osp.relpath(osp.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)


def test_parallel_generation_writes_the_same_files(tmp_path):
    serial, parallel = str(tmp_path / 'serial'), str(tmp_path / 'parallel')
    counts = generate_shapes_dataset(serial, CFG, progress=False, workers=1)
    assert generate_shapes_dataset(parallel, CFG, progress=False, workers=2) == counts
    files = _files(serial)
    assert files == _files(parallel)
    assert sum(f.startswith('crops/train/') for f in files) == counts['train'] > 0
    _, mismatch, errors = filecmp.cmpfiles(serial, parallel, files, shallow=False)
    assert mismatch == [] and errors == []
    with open(osp.join(serial, 'annotations', 'instances_train.json')) as f:
        coco = json.load(f)
    assert [im['file_name'] for im in coco['images']] == [f'train_{i:06d}.jpg'
                                                           for i in range(CFG.num_train)]
    assert [a['id'] for a in coco['annotations']] == list(range(1, counts['train'] + 1))
    assert dataset_exists(parallel, CFG)
    assert not dataset_exists(parallel, SyntheticConfig(num_train=11, num_val=4, num_test=3,
                                                        image_size=96, max_objects=4, seed=3))


def test_test_split_is_a_third_set_of_scenes(tmp_path):
    root = str(tmp_path)
    counts = generate_shapes_dataset(root, CFG, progress=False)
    assert counts['test'] > 0
    with open(osp.join(root, 'annotations', 'instances_test.json')) as f:
        test = json.load(f)
    assert [im['file_name'] for im in test['images']] == [f'test_{i:06d}.jpg' for i in range(3)]
    with open(osp.join(root, 'VOC2007', 'ImageSets', 'Main', 'test.txt')) as f:
        assert f.read().split() == [f'test_{i:06d}' for i in range(3)]
    img = osp.join(root, 'VOC2007', 'JPEGImages')
    assert not filecmp.cmp(osp.join(img, 'test_000000.jpg'), osp.join(img, 'val_000000.jpg'),
                           shallow=False)


@pytest.mark.parametrize('key, value, least', [
    ('num_train', 0, 1), ('num_val', 0, 1), ('num_test', -1, 0), ('image_size', 32, 64),
    ('max_objects', 0, 1), ('crop_size', 0, 1)])
def test_empty_or_too_small_settings_are_refused_before_writing(tmp_path, key, value, least):
    settings = dict(num_train=1, num_val=1, num_test=0, image_size=64)
    cfg = SyntheticConfig(**{**settings, key: value})
    with pytest.raises(ValueError, match=f'^{key} must be >= {least}, got {value}$'):
        generate_shapes_dataset(str(tmp_path / 'data'), cfg, progress=False)
    assert not (tmp_path / 'data').exists()
