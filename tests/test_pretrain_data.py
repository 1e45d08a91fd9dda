"""Classification data: ImageFolderDataset layouts, the torchvision v2
pipeline, bad input, and the TopKAccuracy metric.

``make_image_folder`` is shared with the other ``test_pretrain_*`` files.
"""
import os
import os.path as osp
from typing import Sequence

import numpy as np
import pytest
import torch
from mmengine.registry import DATASETS, METRICS
from PIL import Image

from mnext_det.datasets import ImageDecodeError, ImageFolderDataset  # noqa: F401 (registers)
from mnext_det.evaluation import TopKAccuracy

COLORS = ('blue', 'green', 'red')


def make_image_folder(root: str, n_train: int = 6, n_val: int = 2, size: int = 40,
                      classes: Sequence[str] = COLORS, seed: int = 0) -> str:
    """Write ``root/{train,val}/<class>/<i>.{png,jpg}``: noise images whose
    dominant colour channel is the class (blue, green, red)."""
    rng = np.random.default_rng(seed)
    for split, n in (('train', n_train), ('val', n_val)):
        for ci, name in enumerate(classes):
            folder = osp.join(root, split, name)
            os.makedirs(folder, exist_ok=True)
            for i in range(n):
                img = rng.integers(0, 90, (size, size, 3)).astype(np.uint8)
                img[..., (2 - ci) % 3] += 120
                ext = 'png' if i % 2 else 'jpg'
                Image.fromarray(img).save(osp.join(folder, f'{name}_{i}.{ext}'))
    return root


PIPELINE = [
    dict(type='DecodeImage'),
    dict(type='TorchvisionTransforms',
         transforms=[dict(type='RandomChoice', transforms=[
             dict(type='RandomResizedCrop', size=32, interpolation='bilinear'),
             dict(type='RandomResizedCrop', size=32, interpolation='bicubic')]),
             dict(type='RandomHorizontalFlip'),
             dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4)]),
    dict(type='PackClsInputs'),
]


def _build(**kwargs) -> ImageFolderDataset:
    return DATASETS.build(dict(type='ImageFolderDataset', pipeline=PIPELINE, **kwargs))


def test_class_folders_and_pipeline(tmp_path):
    root = make_image_folder(str(tmp_path))
    ds = _build(data_root=root, data_prefix='train', num_classes=3)
    assert ds.metainfo['classes'] == COLORS and len(ds) == 18
    labels = [ds.get_data_info(i)['gt_label'] for i in range(len(ds))]
    assert labels == [0] * 6 + [1] * 6 + [2] * 6
    sample = ds[13]
    assert sample['data_samples'] == 2
    img = sample['inputs']
    assert img.dtype == torch.uint8 and img.shape == (3, 32, 32)
    # colour survives crop/flip/jitter: red dominates for class 'red'
    assert img[0].float().mean() > img[1:].float().mean() + 30


def test_val_classes_from_train_folder(tmp_path):
    root = make_image_folder(str(tmp_path))
    ds = _build(data_root=root, data_prefix='val', classes='train', num_classes=3)
    assert ds.metainfo['classes'] == COLORS
    assert [ds.get_data_info(i)['gt_label'] for i in range(len(ds))] == [0, 0, 1, 1, 2, 2]


def test_flat_val_folder_with_label_file(tmp_path):
    root = make_image_folder(str(tmp_path))
    flat = tmp_path / 'val_flat'
    flat.mkdir()
    lines = []
    for ci, name in enumerate(COLORS):
        for f in sorted(os.listdir(tmp_path / 'val' / name)):
            os.rename(tmp_path / 'val' / name / f, flat / f)
            # index labels for blue/green, a class name for red: both forms work
            lines.append(f'{f} {ci if name != "red" else "red"}')
    (tmp_path / 'val.txt').write_text('\n'.join(lines) + '\n')
    ds = _build(data_root=root, data_prefix='val_flat', ann_file='val.txt', classes='train')
    assert sorted(ds.get_data_info(i)['gt_label'] for i in range(len(ds))) == [0, 0, 1, 1, 2, 2]
    assert ds[5]['inputs'].shape == (3, 32, 32)
    classes_txt = tmp_path / 'classes.txt'
    classes_txt.write_text('\n'.join(COLORS) + '\n')
    assert len(_build(data_root=root, data_prefix='val_flat', ann_file='val.txt',
                      classes='classes.txt')) == 6


def test_label_file_errors_name_line(tmp_path):
    root = make_image_folder(str(tmp_path), n_val=1)
    (tmp_path / 'bad_label.txt').write_text('val/red/red_0.jpg purple\n')
    with pytest.raises(ValueError, match=r"bad_label.txt:1: label 'purple'"):
        _build(data_root=root, ann_file='bad_label.txt', classes='train')
    (tmp_path / 'bad_index.txt').write_text('val/red/red_0.jpg 2\nval/red/red_0.jpg 3\n')
    with pytest.raises(ValueError, match=r"bad_index.txt:2: label '3'"):
        _build(data_root=root, ann_file='bad_index.txt', classes='train')
    (tmp_path / 'missing.txt').write_text('val/red/nope.jpg 2\n')
    with pytest.raises(FileNotFoundError, match=r'missing.txt:1: image file not found: .*nope'):
        _build(data_root=root, ann_file='missing.txt', classes='train')
    with pytest.raises(ValueError, match='needs classes='):
        _build(data_root=root, ann_file='missing.txt')


def test_class_count_mismatch(tmp_path):
    root = make_image_folder(str(tmp_path))
    with pytest.raises(ValueError, match=r'has 3 classes but the config says num_classes=1000'):
        _build(data_root=root, data_prefix='train', num_classes=1000)


def test_empty_class_folder(tmp_path):
    root = make_image_folder(str(tmp_path))
    os.makedirs(tmp_path / 'train' / 'yellow')
    (tmp_path / 'train' / 'yellow' / 'notes.txt').write_text('no image here')
    with pytest.raises(ValueError, match=r'class folder .*yellow holds no image'):
        _build(data_root=root, data_prefix='train')


def test_val_class_missing_from_train(tmp_path):
    root = make_image_folder(str(tmp_path))
    make_image_folder(str(tmp_path / 'extra'), classes=('cyan', ))
    os.rename(tmp_path / 'extra' / 'val' / 'cyan', tmp_path / 'val' / 'cyan')
    with pytest.raises(ValueError, match=r"\['cyan'\] are not among the 3 classes of .*train"):
        _build(data_root=root, data_prefix='val', classes='train')


def test_non_image_files_skipped_and_counted(tmp_path):
    root = make_image_folder(str(tmp_path))
    (tmp_path / 'train' / 'red' / 'README.txt').write_text('not an image')
    (tmp_path / 'train' / 'red' / '.DS_Store').write_text('hidden')
    ds = _build(data_root=root, data_prefix='train')
    assert len(ds) == 18 and ds.num_skipped == 1


def test_corrupt_image_names_the_file(tmp_path):
    root = make_image_folder(str(tmp_path))
    bad = tmp_path / 'train' / 'green' / 'broken.jpg'
    bad.write_bytes(b'\xff\xd8\xff\xe0 this is not really a jpeg')
    ds = _build(data_root=root, data_prefix='train')
    idx = [ds.get_data_info(i)['img_path'] for i in range(len(ds))].index(str(bad))
    with pytest.raises(ImageDecodeError, match=r'cannot decode image file .*broken.jpg'):
        ds[idx]


def test_grey_and_bmp_images_become_rgb(tmp_path):
    folder = tmp_path / 'train' / 'a'
    folder.mkdir(parents=True)
    Image.fromarray(np.full((20, 30), 77, np.uint8), mode='L').save(folder / 'g.png')
    Image.fromarray(np.full((20, 30, 3), 9, np.uint8)).save(folder / 'b.bmp')
    ds = DATASETS.build(dict(type='ImageFolderDataset', data_root=str(tmp_path),
                             data_prefix='train', pipeline=[dict(type='DecodeImage'),
                                                            dict(type='PackClsInputs')]))
    shapes = {tuple(ds[i]['inputs'].shape) for i in range(2)}
    assert shapes == {(3, 20, 30)}


def test_unknown_torchvision_transform_suggests_name():
    from mnext_det.datasets import build_torchvision_transform
    with pytest.raises(KeyError, match="'RandomResizeCrop'.*Did you mean 'RandomResizedCrop'"):
        build_torchvision_transform(dict(type='RandomResizeCrop', size=8))


def test_topk_accuracy():
    metric = METRICS.build(dict(type='TopKAccuracy', topk=(1, 2)))
    scores = torch.tensor([[0.7, 0.2, 0.1],   # label 0: rank 0
                           [0.5, 0.3, 0.2],   # label 1: rank 1
                           [0.6, 0.3, 0.1],   # label 2: rank 2
                           [0.4, 0.4, 0.2]])  # label 1: tie with the top, counts as rank 1
    labels = [0, 1, 2, 1]
    metric.process(None, [dict(pred_score=s, gt_label=torch.tensor(l))
                          for s, l in zip(scores, labels)])
    assert metric.evaluate(4) == {'accuracy/top1': 25.0, 'accuracy/top2': 75.0}


def test_topk_accuracy_constant_and_nan_scores_are_misses():
    metric = TopKAccuracy(topk=1)
    metric.process(None, [dict(pred_score=torch.ones(3), gt_label=0),
                          dict(pred_score=torch.tensor([float('nan'), 0., 0.]), gt_label=0)])
    assert metric.evaluate(2) == {'accuracy/top1': 0.0}


def test_topk_accuracy_label_out_of_range():
    metric = TopKAccuracy()
    with pytest.raises(ValueError, match=r'gt_label 5 is outside \[0, 3\)'):
        metric.process(None, [dict(pred_score=torch.ones(3), gt_label=5)])
