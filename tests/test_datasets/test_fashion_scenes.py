"""Detection scenes of Fashion-MNIST items: tight boxes, COCO json mmdet reads,
deterministic per scene, items of the right split."""
import filecmp
import json
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from mnext_det.datasets.fashion_mnist import CLASSES
from mnext_det.datasets.fashion_scenes import (FashionScenesConfig, draw_fashion_scene,
                                               paste_item, write_fashion_scenes)

from .fashion_idx import rectangles, write_fashion_src

CFG = FashionScenesConfig(num_train=6, num_val=3, width=96, height=80, max_objects=3,
                          min_size=20, max_size=40, seed=2)


def test_paste_item_returns_the_tight_box_of_what_it_changed():
    canvas = Image.new('RGB', (60, 50), (10, 20, 30))
    item = np.zeros((28, 28), np.uint8)
    item[4:10, 7:20] = 255
    box = paste_item(canvas, item, x=5, y=3, size=28, color=(200, 100, 50))
    assert box == (5 + 7, 3 + 4, 5 + 20, 3 + 10)
    changed = np.any(np.asarray(canvas) != (10, 20, 30), axis=-1)
    ys, xs = np.nonzero(changed)
    assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == box
    assert paste_item(canvas, np.zeros((28, 28), np.uint8), 0, 0, 28, (1, 2, 3)) is None


def test_scenes_hold_their_items_inside_and_apart():
    items = rectangles(20, seed=4)
    labels = np.arange(20) % 10
    for index in range(20):
        img, objects = draw_fashion_scene(np.random.default_rng(index), items, labels, CFG)
        assert img.size == (CFG.width, CFG.height)
        assert 1 <= len(objects) <= CFG.max_objects
        for (x0, y0, x1, y1), label in objects:
            assert 0 <= x0 < x1 <= CFG.width and 0 <= y0 < y1 <= CFG.height
            assert max(x1 - x0, y1 - y0) <= CFG.max_size and 0 <= label < 10


def test_write_fashion_scenes_is_coco_mmdet_reads_and_deterministic(tmp_path):
    from mmdet.datasets import CocoDataset
    src = write_fashion_src(str(tmp_path / 'src'), [3] * 8, [7] * 4)
    a, b = str(tmp_path / 'a'), str(tmp_path / 'b')
    counts = write_fashion_scenes(src, a, CFG)
    assert write_fashion_scenes(src, b, CFG) == counts
    files = sorted(os.listdir(osp.join(a, 'images')))
    assert files == [f'train_{i:05d}.jpg' for i in range(6)] + [f'val_{i:05d}.jpg'
                                                                 for i in range(3)]
    _, mismatch, errors = filecmp.cmpfiles(a, b, ['annotations/instances_train.json',
                                                  'annotations/instances_val.json'] +
                                           [f'images/{f}' for f in files], shallow=False)
    assert mismatch == [] and errors == []
    for split, label in (('train', 3), ('val', 7)):  # val items come from the test split
        with open(osp.join(a, 'annotations', f'instances_{split}.json')) as f:
            coco = json.load(f)
        assert [c['name'] for c in coco['categories']] == list(CLASSES)
        assert len(coco['annotations']) == counts[split] > 0
        assert {ann['category_id'] for ann in coco['annotations']} == {label + 1}
        dataset = CocoDataset(data_root=a, ann_file=f'annotations/instances_{split}.json',
                              data_prefix=dict(img='images/'), metainfo=dict(classes=CLASSES),
                              filter_cfg=dict(filter_empty_gt=False), pipeline=[])
        assert len(dataset) == len(coco['images'])
        assert sum(len(dataset[i]['instances']) for i in range(len(dataset))) == counts[split]
        assert all(osp.isfile(dataset[i]['img_path']) for i in range(len(dataset)))
    other = str(tmp_path / 'other')
    write_fashion_scenes(src, other, FashionScenesConfig(**{**CFG.__dict__, 'seed': 3}))
    assert not filecmp.cmp(osp.join(a, 'images', 'train_00000.jpg'),
                           osp.join(other, 'images', 'train_00000.jpg'), shallow=False)


@pytest.mark.parametrize('changes, message', [
    (dict(num_val=-1), 'num_val must be an integer >= 0'),
    (dict(min_size=0), 'min_size must be an integer >= 1'),
    (dict(width=2.5), 'width must be an integer'),
    (dict(min_size=50, max_size=40), r'min_size \(50\) is larger than max_size \(40\)'),
    (dict(max_size=90), r'max_size \(90\) does not fit a 96 x 80 scene'),
])
def test_bad_settings_are_named(changes, message):
    with pytest.raises(ValueError, match=f'FashionScenesConfig.{message}'):
        FashionScenesConfig(**{**CFG.__dict__, **changes})


def test_write_fashion_scenes_writes_nothing_when_a_split_is_missing(tmp_path):
    src = write_fashion_src(str(tmp_path / 'src'), [3] * 8, [7] * 4)
    os.remove(osp.join(src, 't10k-images-idx3-ubyte.gz'))
    with pytest.raises(FileNotFoundError, match='no t10k images idx file in'):
        write_fashion_scenes(src, str(tmp_path / 'out'), CFG)
    assert not osp.exists(tmp_path / 'out')
