"""Bad data: tools/misc/check_dataset.py and mnext_det.datasets.validation catch
each case with its file named, for COCO, VOC and ImageFolder layouts."""
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from mnext_det.datasets.checks.scan import (check_coco, check_image_folder, check_voc,
                                           inspect_image)

from .reliability_fixtures import ROOT

TOOL = osp.join(ROOT, 'tools', 'misc', 'check_dataset.py')


def _rgb(path, w=40, h=30, mode='RGB', **save):
    arr = np.random.default_rng(0).integers(0, 255, (h, w, 3), dtype=np.uint8)
    img = Image.fromarray(arr)
    if mode != 'RGB':
        img = img.convert(mode)
    img.save(path, **save)
    return path


def _truncated(path):
    _rgb(path)
    data = open(path, 'rb').read()
    open(path, 'wb').write(data[:len(data) // 2])
    return path


def _exif_rotated(path):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90: displayed 30 x 40
    return _rgb(path, exif=exif)


def _bad_images(folder):
    """Every image-level bad case; returns {file name: expected issue kind}."""
    os.makedirs(folder, exist_ok=True)
    _rgb(osp.join(folder, 'good.jpg'))
    _rgb(osp.join(folder, 'grey.png'), mode='L')
    _rgb(osp.join(folder, 'cmyk.jpg'), mode='CMYK')
    Image.fromarray(np.full((30, 40), 4000, np.uint16)).save(osp.join(folder, 'deep.png'))
    _exif_rotated(osp.join(folder, 'rotated.jpg'))
    _truncated(osp.join(folder, 'truncated.jpg'))
    _truncated(osp.join(folder, 'truncated.png'))
    open(osp.join(folder, 'garbage.jpg'), 'wb').write(os.urandom(500))
    return {'grey.png': 'greyscale_image', 'cmyk.jpg': 'cmyk_image',
            'deep.png': 'high_bit_depth_image', 'rotated.jpg': 'exif_rotated',
            'truncated.jpg': 'truncated_image', 'truncated.png': 'truncated_image',
            'garbage.jpg': 'unreadable_image'}


def _has(report, kind, file_end, detail=''):
    hits = [i for i in report.issues if i.kind == kind and i.file.endswith(file_end)
            and detail in i.detail]
    assert hits, f'no {kind} for {file_end}:\n{report.format(50)}'


@pytest.mark.parametrize('decode', [True, False])
def test_image_cases(tmp_path, decode):
    expected = _bad_images(str(tmp_path))
    assert inspect_image(str(tmp_path / 'good.jpg'), decode) == ([], (40, 30))
    for name, kind in expected.items():
        issues, size = inspect_image(str(tmp_path / name), decode)
        assert kind in [i.kind for i in issues] and all(i.file.endswith(name) for i in issues)
    assert inspect_image(str(tmp_path / 'rotated.jpg'))[1] == (30, 40)
    assert inspect_image(str(tmp_path / 'nope.jpg'))[0][0].kind == 'missing_file'


def _coco(tmp_path):
    img_dir = str(tmp_path / 'images')
    expected = _bad_images(img_dir)
    names = ['good.jpg'] + sorted(expected) + ['missing.jpg']
    images = [dict(id=i + 1, file_name=n, width=40, height=30) for i, n in enumerate(names)]
    by_name = {im['file_name']: im for im in images}
    by_name['rotated.jpg'].update(width=30, height=40)  # annotated as displayed: fine
    _exif_rotated(osp.join(img_dir, 'rotated_raw_size.jpg'))
    images.append(dict(id=100, file_name='rotated_raw_size.jpg', width=40, height=30))
    _rgb(osp.join(img_dir, 'empty.jpg'))
    images.append(dict(id=101, file_name='empty.jpg', width=40, height=30))
    images.append(dict(id=101, file_name='dup_id.jpg', width=40, height=30))
    anns = [dict(id=i + 1, image_id=im['id'], category_id=1, bbox=[1, 1, 10, 10])
            for i, im in enumerate(images) if im['file_name'] not in ('empty.jpg', 'dup_id.jpg')]
    good = by_name['good.jpg']['id']
    anns += [dict(id=200, image_id=good, category_id=1, bbox=[5, 5, 0, 8]),
             dict(id=201, image_id=good, category_id=1, bbox=[30, 5, 20, 8]),
             dict(id=202, image_id=good, category_id=7, bbox=[1, 1, 5, 5]),
             dict(id=202, image_id=good, category_id=1, bbox=[2, 2, 5, 5])]
    ann_file = str(tmp_path / 'instances.json')
    with open(ann_file, 'w') as f:
        json.dump(dict(images=images, annotations=anns,
                       categories=[dict(id=1, name='thing'), dict(id=2, name='other')]), f)
    return ann_file, img_dir, expected


def test_coco_cases(tmp_path):
    ann_file, img_dir, expected = _coco(tmp_path)
    report = check_coco(ann_file, img_dir)
    for name, kind in expected.items():
        _has(report, kind, name)
    _has(report, 'missing_file', 'missing.jpg')
    _has(report, 'size_mismatch', 'rotated_raw_size.jpg', 'after EXIF rotation')
    _has(report, 'bad_box', 'good.jpg', 'annotation 200: non-positive size 0 x 8')
    _has(report, 'box_outside_image', 'good.jpg', 'annotation 201')
    _has(report, 'unknown_category', 'good.jpg', 'annotation 202: category_id 7')
    _has(report, 'duplicate_id', 'instances.json', 'annotation id 202 appears 2 times')
    _has(report, 'duplicate_id', 'instances.json', 'image id 101 appears 2 times')
    _has(report, 'empty_image', 'empty.jpg')
    assert not [i for i in report.issues if i.file.endswith('rotated.jpg')
                and i.kind == 'size_mismatch']
    assert not report.ok()
    assert report.counts()['truncated_image'] == 2


@pytest.mark.parametrize('text, detail', [('{"images": [', 'json:'),
                                          ('[1, 2]', 'top level is list'),
                                          ('{"images": []}', 'missing or non-list keys')])
def test_coco_malformed_json(tmp_path, text, detail):
    ann_file = tmp_path / 'bad.json'
    ann_file.write_text(text)
    report = check_coco(str(ann_file), str(tmp_path))
    _has(report, 'malformed_annotation', 'bad.json', detail)


def _voc(tmp_path):
    root = tmp_path / 'VOC2007'
    for sub in ('Annotations', 'JPEGImages', 'ImageSets/Main'):
        (root / sub).mkdir(parents=True)

    def xml(img_id, objects, size=(40, 30)):
        objs = ''.join(f'<object><name>{n}</name><difficult>0</difficult><bndbox><xmin>{b[0]}'
                       f'</xmin><ymin>{b[1]}</ymin><xmax>{b[2]}</xmax><ymax>{b[3]}</ymax>'
                       f'</bndbox></object>' for n, b in objects)
        (root / 'Annotations' / f'{img_id}.xml').write_text(
            f'<annotation><filename>{img_id}.jpg</filename><size><width>{size[0]}</width>'
            f'<height>{size[1]}</height><depth>3</depth></size>{objs}</annotation>')

    ids = ['ok', 'badxml', 'unknown', 'flat', 'outside', 'noimage', 'noxml', 'empty', 'ok',
           'truncated']
    for i in set(ids) - {'noimage'}:
        _rgb(str(root / 'JPEGImages' / f'{i}.jpg'))
    _truncated(str(root / 'JPEGImages' / 'truncated.jpg'))
    xml('ok', [('cat', (1, 1, 40, 30))])
    (root / 'Annotations' / 'badxml.xml').write_text('<annotation><size>')
    xml('unknown', [('unicorn', (1, 1, 10, 10))])
    xml('flat', [('dog', (10, 5, 10, 20))])
    xml('outside', [('dog', (10, 5, 45, 20))])
    xml('noimage', [('dog', (1, 1, 10, 10))])
    xml('empty', [])
    xml('truncated', [('dog', (1, 1, 10, 10))])
    (root / 'ImageSets' / 'Main' / 'trainval.txt').write_text('\n'.join(ids) + '\n')
    return str(root)


def test_voc_cases(tmp_path):
    root = _voc(tmp_path)
    report = check_voc(root)
    _has(report, 'malformed_annotation', 'badxml.xml', 'xml:')
    _has(report, 'unknown_category', 'unknown.xml', "'unicorn'")
    _has(report, 'bad_box', 'flat.xml', 'non-positive size')
    _has(report, 'box_outside_image', 'outside.xml')
    _has(report, 'missing_file', 'JPEGImages/noimage.jpg')
    _has(report, 'missing_file', 'Annotations/noxml.xml')
    _has(report, 'empty_image', 'empty.xml')
    _has(report, 'duplicate_id', 'trainval.txt', 'id ok appears 2 times')
    _has(report, 'truncated_image', 'truncated.jpg')
    assert not [i for i in report.issues if '/ok.' in i.file]


def test_image_folder_cases(tmp_path):
    expected = _bad_images(str(tmp_path / 'train' / 'a'))
    (tmp_path / 'train' / 'b').mkdir()
    (tmp_path / 'train' / 'a' / 'notes.txt').write_text('x')
    report = check_image_folder(str(tmp_path / 'train'))
    for name, kind in expected.items():
        _has(report, kind, name)
    _has(report, 'empty_class', 'train/b')
    _has(report, 'not_an_image_file', 'notes.txt')
    assert report.num_images == 8


def _tool(*args):
    return subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=ROOT))


def test_cli_reports_counts_offenders_and_exit_status(tmp_path):
    ann_file, img_dir, _ = _coco(tmp_path)
    out = str(tmp_path / 'report.json')
    proc = _tool('coco', ann_file, img_dir, '--max-offenders', '1', '--json', out)
    assert proc.returncode == 1, proc.stderr
    assert 'truncated_image: 2' in proc.stdout and '... and 1 more' in proc.stdout
    assert 'result: FAILED' in proc.stdout
    report = json.load(open(out))
    assert report['counts']['truncated_image'] == 2 and not report['ok']

    clean = tmp_path / 'clean' / 'train'
    for c in ('a', 'b'):
        (clean / c).mkdir(parents=True)
        _rgb(str(clean / c / 'x.png'))
    proc = _tool('imagefolder', str(clean))
    assert proc.returncode == 0 and 'result: OK' in proc.stdout
    _rgb(str(clean / 'a' / 'grey.png'), mode='L')
    assert _tool('imagefolder', str(clean)).returncode == 0
    assert _tool('imagefolder', str(clean), '--strict').returncode == 1


def test_cli_reads_dataset_from_config(tmp_path):
    _voc(tmp_path)
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(f'''
train_dataloader = dict(dataset=dict(type='RepeatDataset', times=2, dataset=dict(
    type='VOCDataset', data_root={str(tmp_path)!r}, ann_file='VOC2007/ImageSets/Main/trainval.txt',
    data_prefix=dict(sub_data_root='VOC2007/'))))
''')
    proc = _tool('config', str(cfg))
    assert proc.returncode == 1
    assert 'unicorn' in proc.stdout and 'badxml.xml' in proc.stdout


def test_cli_flat_val_folder_with_label_file(tmp_path):
    for name in ('a', 'b'):
        (tmp_path / 'train' / name).mkdir(parents=True)
        _rgb(str(tmp_path / 'train' / name / 'x.jpg'))
    (tmp_path / 'val').mkdir()
    _rgb(str(tmp_path / 'val' / 'v1.jpg'))
    _truncated(str(tmp_path / 'val' / 'v2.jpg'))
    _rgb(str(tmp_path / 'val' / 'unlisted.jpg'))
    labels = tmp_path / 'val.txt'
    labels.write_text('v1.jpg 0\nv2.jpg 1\n')
    args = ['imagefolder', str(tmp_path / 'val'), '--ann-file', str(labels)]
    proc = _tool(*args, '--classes', str(tmp_path / 'train'))
    assert proc.returncode == 1, proc.stderr
    assert 'truncated_image: 1' in proc.stdout and 'v2.jpg' in proc.stdout
    assert 'images: 2 ' in proc.stdout, proc.stdout  # the label file's, not the folder's 3
    labels.write_text('v1.jpg 0\n')
    assert _tool(*args, '--classes', 'a,b').returncode == 0
    labels.write_text('v1.jpg 0\nv1.jpg 7\n')
    proc = _tool(*args, '--classes', 'a,b')
    assert proc.returncode == 1 and 'val.txt:2' in proc.stderr + proc.stdout, proc.stderr
    proc = _tool(*args, '--classes', 'a,b', '--num-classes', '3')
    assert proc.returncode == 1 and 'num_classes' in proc.stderr + proc.stdout, proc.stderr
