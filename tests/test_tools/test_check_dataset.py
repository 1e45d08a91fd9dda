"""tools/misc/check_dataset.py: counts, offenders and exit status for COCO, VOC
(from a config) and ImageFolder layouts; the first check starts the tool as a
user does, the others run its ``__main__`` in this process (tests/tool_main.py)."""
import json
import os
import os.path as osp
import subprocess
import sys

from ..fault_injection import ROOT
from ..test_datasets.bad_data import (write_bad_coco, write_bad_voc, write_rgb,
                                      write_truncated)
from ..tool_main import run_main

TOOL = osp.join(ROOT, 'tools', 'misc', 'check_dataset.py')


def _process(*args):
    return subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=ROOT))


def _tool(*args):
    return run_main(TOOL, *args, cwd=ROOT)


def test_cli_reports_counts_offenders_and_exit_status(tmp_path):
    ann_file, img_dir, _ = write_bad_coco(tmp_path)
    out = str(tmp_path / 'report.json')
    proc = _process('coco', ann_file, img_dir, '--max-offenders', '1', '--json', out)
    assert proc.returncode == 1, proc.stderr
    assert 'truncated_image: 2' in proc.stdout and '... and 1 more' in proc.stdout
    assert 'result: FAILED' in proc.stdout
    report = json.load(open(out))
    assert report['counts']['truncated_image'] == 2 and not report['ok']

    clean = tmp_path / 'clean' / 'train'
    for c in ('a', 'b'):
        (clean / c).mkdir(parents=True)
        write_rgb(str(clean / c / 'x.png'))
    proc = _tool('imagefolder', str(clean))
    assert proc.returncode == 0 and 'result: OK' in proc.stdout
    write_rgb(str(clean / 'a' / 'grey.png'), mode='L')
    assert _tool('imagefolder', str(clean)).returncode == 0
    assert _tool('imagefolder', str(clean), '--strict').returncode == 1


def test_cli_reads_dataset_from_config(tmp_path):
    write_bad_voc(tmp_path)
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(f'''
train_dataloader = dict(dataset=dict(type='RepeatDataset', times=2, dataset=dict(
    type='VOCDataset', data_root={str(tmp_path)!r}, ann_file='VOC2007/ImageSets/Main/trainval.txt',
    data_prefix=dict(sub_data_root='VOC2007/'))))
''')
    proc = _tool('config', str(cfg))
    assert proc.returncode == 1
    assert 'unicorn' in proc.stdout and 'badxml.xml' in proc.stdout


def test_cli_config_with_classes_the_json_lacks_fails_as_train_would(tmp_path):
    ann_file, img_dir, _ = write_bad_coco(tmp_path)
    cfg = tmp_path / 'cfg.py'
    body = '''
model = dict(bbox_head=dict(num_classes=2))
train_dataloader = dict(dataset=dict(type='CocoDataset', ann_file={ann!r},
    data_prefix=dict(img={img!r}), metainfo=dict(classes={classes!r})))
'''
    cfg.write_text(body.format(ann=ann_file, img=img_dir, classes=('thing', 'unicorn')))
    proc = _tool('config', str(cfg), '--skip-images')
    assert proc.returncode == 1
    assert "metainfo.classes: ['unicorn'] are not categories" in proc.stderr, proc.stderr
    cfg.write_text(body.format(ann=ann_file, img=img_dir, classes=('other', 'thing')))
    assert 'in another order' in _tool('config', str(cfg), '--skip-images').stderr
    cfg.write_text(body.format(ann=ann_file, img=img_dir, classes=('thing', 'other')))
    proc = _tool('config', str(cfg), '--skip-images')
    assert 'metainfo' not in proc.stderr and 'images:' in proc.stdout, proc.stderr


def test_cli_flat_val_folder_with_label_file(tmp_path):
    for name in ('a', 'b'):
        (tmp_path / 'train' / name).mkdir(parents=True)
        write_rgb(str(tmp_path / 'train' / name / 'x.jpg'))
    (tmp_path / 'val').mkdir()
    write_rgb(str(tmp_path / 'val' / 'v1.jpg'))
    write_truncated(str(tmp_path / 'val' / 'v2.jpg'))
    write_rgb(str(tmp_path / 'val' / 'unlisted.jpg'))
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


def test_cli_checks_every_split_of_a_config(tmp_path):
    """Only the train split was checked: a truncated validation image
    passed, and training died in its first validation."""
    ann_bad, img_bad, _ = write_bad_coco(tmp_path / 'bad')
    good = tmp_path / 'good'
    (good / 'images').mkdir(parents=True)
    write_rgb(str(good / 'images' / 'a.jpg'))
    (good / 'train.json').write_text(json.dumps(dict(
        images=[dict(id=1, file_name='a.jpg', width=40, height=30)],
        annotations=[dict(id=1, image_id=1, category_id=1, bbox=[1, 1, 10, 10], area=100,
                          iscrowd=0)],
        categories=[dict(id=1, name='thing'), dict(id=2, name='other')])))
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(f'''
model = dict(bbox_head=dict(num_classes=2))
train_dataloader = dict(dataset=dict(type='CocoDataset', ann_file={str(good / 'train.json')!r},
    data_prefix=dict(img={str(good / 'images')!r}), metainfo=dict(classes=('thing', 'other'))))
val_dataloader = dict(dataset=dict(type='CocoDataset', ann_file={ann_bad!r}, test_mode=True,
    data_prefix=dict(img={img_bad!r}), metainfo=dict(classes=('thing', 'other'))))
test_dataloader = val_dataloader
''')
    proc = _tool('config', str(cfg), '--json', str(tmp_path / 'r.json'))
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.count('result: OK') == 1 and proc.stdout.count('result: FAILED') == 1
    assert 'train_dataloader.dataset:' in proc.stdout and 'val_dataloader.dataset:' in proc.stdout
    assert 'test_dataloader' not in proc.stdout  # the val data again
    report = json.load(open(tmp_path / 'r.json'))
    assert set(report) == {'train', 'val'} and report['train']['ok'] and not report['val']['ok']
    proc = _tool('config', str(cfg), '--split', 'train')
    assert proc.returncode == 0 and 'val_dataloader' not in proc.stdout
