"""ImageFolderDataset: class-folder and label-file layouts through the
torchvision v2 pipeline, and bad input."""
import os

import pytest
import torch

from ..conftest import COLORS, make_image_folder
from .image_folder_build import build_image_folder


def test_class_folders_and_pipeline(tmp_path):
    root = make_image_folder(str(tmp_path))
    ds = build_image_folder(data_root=root, data_prefix='train', num_classes=3)
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
    ds = build_image_folder(data_root=root, data_prefix='val', classes='train', num_classes=3)
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
    ds = build_image_folder(data_root=root, data_prefix='val_flat', ann_file='val.txt',
                            classes='train')
    assert sorted(ds.get_data_info(i)['gt_label'] for i in range(len(ds))) == [0, 0, 1, 1, 2, 2]
    assert ds[5]['inputs'].shape == (3, 32, 32)
    classes_txt = tmp_path / 'classes.txt'
    classes_txt.write_text('\n'.join(COLORS) + '\n')
    assert len(build_image_folder(data_root=root, data_prefix='val_flat', ann_file='val.txt',
                      classes='classes.txt')) == 6


def test_label_file_errors_name_line(tmp_path):
    root = make_image_folder(str(tmp_path), n_val=1)
    (tmp_path / 'bad_label.txt').write_text('val/red/red_0.jpg purple\n')
    with pytest.raises(ValueError, match=r"bad_label.txt:1: label 'purple'"):
        build_image_folder(data_root=root, ann_file='bad_label.txt', classes='train')
    (tmp_path / 'bad_index.txt').write_text('val/red/red_0.jpg 2\nval/red/red_0.jpg 3\n')
    with pytest.raises(ValueError, match=r"bad_index.txt:2: label '3'"):
        build_image_folder(data_root=root, ann_file='bad_index.txt', classes='train')
    (tmp_path / 'missing.txt').write_text('val/red/nope.jpg 2\n')
    with pytest.raises(FileNotFoundError, match=r'missing.txt:1: image file not found: .*nope'):
        build_image_folder(data_root=root, ann_file='missing.txt', classes='train')
    with pytest.raises(ValueError, match='needs classes='):
        build_image_folder(data_root=root, ann_file='missing.txt')


def test_class_count_mismatch(tmp_path):
    root = make_image_folder(str(tmp_path))
    with pytest.raises(ValueError, match=r'has 3 classes but the config says num_classes=1000; '
                       r'.*--cfg-options model.num_classes=3 train_dataloader.dataset.num_classes'
                       r'=3 val_dataloader.dataset.num_classes=3 test_dataloader.dataset.'
                       r'num_classes=3\)'):
        build_image_folder(data_root=root, data_prefix='train', num_classes=1000)


def test_empty_class_folder(tmp_path):
    root = make_image_folder(str(tmp_path))
    os.makedirs(tmp_path / 'train' / 'yellow')
    (tmp_path / 'train' / 'yellow' / 'notes.txt').write_text('no image here')
    with pytest.raises(ValueError, match=r'class folder .*yellow holds no image'):
        build_image_folder(data_root=root, data_prefix='train')
    # named as empty, not as a fourth class to set num_classes for
    with pytest.raises(ValueError, match=r'class folder .*yellow holds no image'):
        build_image_folder(data_root=root, data_prefix='train', num_classes=3)


def test_val_class_missing_from_train(tmp_path):
    root = make_image_folder(str(tmp_path))
    make_image_folder(str(tmp_path / 'extra'), classes=('cyan', ))
    os.rename(tmp_path / 'extra' / 'val' / 'cyan', tmp_path / 'val' / 'cyan')
    with pytest.raises(ValueError, match=r"\['cyan'\] are not among the 3 classes of .*train"):
        build_image_folder(data_root=root, data_prefix='val', classes='train')


def test_non_image_files_skipped_and_counted(tmp_path):
    root = make_image_folder(str(tmp_path))
    (tmp_path / 'train' / 'red' / 'README.txt').write_text('not an image')
    (tmp_path / 'train' / 'red' / '.DS_Store').write_text('hidden')
    ds = build_image_folder(data_root=root, data_prefix='train')
    assert len(ds) == 18 and ds.num_skipped == 1


def test_a_label_that_is_both_a_class_name_and_another_index_is_refused(tmp_path):
    """Classes named 0-11 list as 0, 1, 10, 11, 2, ...: label 2 went to the
    class named 2 (index 4) without a word."""
    names = [str(i) for i in range(12)]
    root = make_image_folder(str(tmp_path), n_train=1, n_val=1, classes=names)
    (tmp_path / 'labels.txt').write_text('val/1/1_0.jpg 1\nval/2/2_0.jpg 2\n')
    with pytest.raises(ValueError, match=r"labels.txt:2: label '2' is both the class named '2' "
                       r'\(index 4\) and the index 2'):
        build_image_folder(data_root=root, ann_file='labels.txt', classes='train')
    (tmp_path / 'numeric.txt').write_text('\n'.join(names) + '\n')
    ds = build_image_folder(data_root=root, ann_file='labels.txt', classes='numeric.txt')
    assert [ds.get_data_info(i)['gt_label'] for i in range(len(ds))] == [1, 2]
