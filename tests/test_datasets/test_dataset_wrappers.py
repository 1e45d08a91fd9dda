"""Training applies the dataset checks to every sample it loads: a bad
sample is a clear error naming the file, or is skipped and counted."""
import json
import os.path as osp

import pytest

from mnext_det.datasets import BadSampleError, ValidatedDataset

from ..fault_injection import run_train, write_classification_run
from .bad_data import write_exif_rotated, write_rgb, write_truncated


def test_classification_training_names_bad_file_or_skips_it(tmp_path):
    cfg = write_classification_run(tmp_path, max_epochs=1)
    bad = str(tmp_path / 'data' / 'train' / 'class1' / '003.png')
    write_truncated(bad)
    proc = run_train([cfg, '--work-dir', str(tmp_path / 'raise')])
    assert proc.returncode == 2, proc.stderr[-3000:]  # a user error: one line, no traceback
    assert proc.stderr.strip().splitlines()[-1].startswith(f'error: {bad}: truncated_image')
    assert 'Traceback' not in proc.stderr

    proc = run_train([cfg, '--work-dir', str(tmp_path / 'skip'),
                      '--cfg-options', 'sample_validation.on_error=skip'])
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert f'skipped bad sample {bad}: truncated_image' in log
    assert '(1 skipped so far)' in log
    assert osp.isfile(tmp_path / 'skip' / 'epoch_1.pth')


@pytest.fixture
def coco_detection(tmp_path):
    pytest.importorskip('mmdet')
    from mmdet.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    img_dir = tmp_path / 'images'
    img_dir.mkdir()
    names = ['good0.jpg', 'good1.jpg', 'missing.jpg', 'truncated.jpg', 'garbage.jpg',
             'rotated_raw_size.jpg', 'outside.jpg']
    for n in names:
        write_rgb(str(img_dir / n))
    (img_dir / 'missing.jpg').unlink()
    write_truncated(str(img_dir / 'truncated.jpg'))
    (img_dir / 'garbage.jpg').write_bytes(b'not an image at all' * 20)
    write_exif_rotated(str(img_dir / 'rotated_raw_size.jpg'))
    images = [dict(id=i + 1, file_name=n, width=40, height=30) for i, n in enumerate(names)]
    anns = [dict(id=i + 1, image_id=i + 1, category_id=1, bbox=[2, 2, 10, 10], area=100,
                 iscrowd=0) for i in range(len(names))]
    anns[-1]['bbox'] = [30, 2, 25, 10]  # outside.jpg: reaches x=55 in a 40 px wide image
    ann_file = tmp_path / 'instances.json'
    ann_file.write_text(json.dumps(dict(images=images, annotations=anns,
                                        categories=[dict(id=1, name='thing')])))
    expected = {'missing.jpg': 'missing_file', 'truncated.jpg': 'truncated_image',
                'garbage.jpg': 'unreadable_image', 'rotated_raw_size.jpg': 'size_mismatch',
                'outside.jpg': 'box_outside_image'}
    dataset = dict(type='CocoDataset', data_root=str(tmp_path), ann_file='instances.json',
                   data_prefix=dict(img='images/'), metainfo=dict(classes=('thing', )),
                   filter_cfg=dict(filter_empty_gt=False),
                   pipeline=[dict(type='LoadImageFromFile'),
                             dict(type='LoadAnnotations', with_bbox=True),
                             dict(type='PackDetInputs')])
    return dataset, names, expected


def test_detection_sample_errors_name_the_file(coco_detection):
    dataset, names, expected = coco_detection
    ds = ValidatedDataset(dataset)
    assert len(ds) == len(names) and ds.metainfo['classes'] == ('thing', )
    for idx, name in enumerate(names):
        if name not in expected:
            assert ds[idx]['data_samples'].img_path.endswith(name)
            continue
        with pytest.raises(BadSampleError) as e:
            ds[idx]
        assert f'{name}: {expected[name]}' in str(e.value)


def test_detection_bad_samples_skipped_and_counted(coco_detection):
    dataset, names, expected = coco_detection
    ds = ValidatedDataset(dataset, on_error='skip')
    loaded = [osp.basename(ds[i]['data_samples'].img_path) for i in range(len(ds))]
    assert set(loaded) == {'good0.jpg', 'good1.jpg'}
    assert ds.skipped == len(expected)
    with pytest.raises(BadSampleError, match='bad samples in a row'):
        ValidatedDataset(dataset, on_error='skip', max_consecutive_bad=1)[2]


def test_bad_on_error_argument(coco_detection):
    with pytest.raises(ValueError, match="on_error must be 'raise' or 'skip', got 'ignore'"):
        ValidatedDataset(coco_detection[0], on_error='ignore')
