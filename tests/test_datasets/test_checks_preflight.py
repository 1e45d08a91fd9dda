"""Pre-flight checks of a detection config's data: clear errors on bad data
before training."""
import copy
import json

import pytest

pytest.importorskip('mmdet')
from mnext_det.datasets.checks.preflight import DataCheckError, check_detection_data  # noqa

from ..conftest import _config  # noqa: E402


def test_bad_data_errors_name_the_problem(shapes, tmp_path):
    cfg = _config(shapes, 'coco', tmp_path)
    missing = copy.deepcopy(cfg)
    missing.train_dataloader.dataset.data_root = str(tmp_path / 'nowhere')
    with pytest.raises(FileNotFoundError, match='train_dataloader.dataset.data_root.*nowhere'):
        check_detection_data(missing)
    voc_xml = copy.deepcopy(cfg)
    not_coco = tmp_path / 'labels.json'
    not_coco.write_text(json.dumps([{'file': 'a.jpg', 'box': [1, 2, 3, 4]}]))
    voc_xml.train_dataloader.dataset.ann_file = str(not_coco)
    with pytest.raises(DataCheckError, match='not a COCO annotation file'):
        check_detection_data(voc_xml)
    wrong = copy.deepcopy(cfg)
    wrong.model.bbox_head.num_classes = 5
    with pytest.raises(DataCheckError, match='num_classes is 5 but .* has 6 classes'):
        check_detection_data(wrong)
    # a config may name the dataset class itself instead of its registry string
    from mmdet.datasets import CocoDataset
    wrong.train_dataloader.dataset.type = CocoDataset
    with pytest.raises(DataCheckError, match='num_classes is 5 but train_dataloader'):
        check_detection_data(wrong, splits=('train', ))
    voc = _config(shapes, 'voc', tmp_path)
    voc.model.bbox_head.num_classes = 20
    with pytest.raises(DataCheckError, match='num_classes is 20'):
        check_detection_data(voc)


def _coco_names(cfg):
    ds = cfg.train_dataloader.dataset
    with open(ds.data_root + ds.ann_file) as f:
        return [c['name'] for c in json.load(f)['categories']]


def test_classes_in_another_order_than_the_json_are_refused(shapes, tmp_path):
    """mmdet labels categories in the json's order whatever metainfo.classes
    says, so a reordered class list would name every label wrongly."""
    cfg = _config(shapes, 'coco', tmp_path)
    names = _coco_names(cfg)
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.metainfo = dict(classes=tuple(names))
    check_detection_data(cfg)
    swapped = copy.deepcopy(cfg)
    swapped.train_dataloader.dataset.metainfo = dict(classes=tuple(names[1::-1] + names[2:]))
    with pytest.raises(DataCheckError, match=r'train_dataloader.dataset.metainfo.classes lists '
                       r".*another order.*set metainfo=dict\(classes=\('" + names[0]):
        check_detection_data(swapped)
    subset = copy.deepcopy(cfg)
    for split in ('train', 'val', 'test'):
        subset[f'{split}_dataloader'].dataset.metainfo = dict(classes=(names[2], names[0]))
    subset.model.bbox_head.num_classes = 2
    with pytest.raises(DataCheckError, match=rf"classes=\('{names[0]}', '{names[2]}'\)"):
        check_detection_data(subset)


def test_categories_left_out_of_the_classes_are_said(shapes, tmp_path):
    """A class list that is a subset of the json's trains without the other
    categories' boxes (mmdet's subset training): said, not refused."""
    cfg = _config(shapes, 'coco', tmp_path)
    names = _coco_names(cfg)
    assert check_detection_data(cfg) == []
    cfg.model.bbox_head.num_classes = 4
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.metainfo = dict(classes=tuple(names[:4]))
    notes = check_detection_data(cfg)
    assert notes[0] == (f'train_dataloader.dataset: 2 categories of annotations/instances_train'
                        f'.json are not in its classes, so their boxes are neither trained on '
                        f'nor scored: {names[4]}, {names[5]}')
    assert [n.split(':')[0] for n in notes] == [f'{s}_dataloader.dataset'
                                                 for s in ('train', 'val', 'test')]


def test_splits_with_other_classes_are_refused(shapes, tmp_path):
    cfg = _config(shapes, 'coco', tmp_path)
    names = _coco_names(cfg)
    cfg.model.bbox_head.num_classes = 2
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.metainfo = dict(classes=tuple(names[:2]))
    check_detection_data(cfg)
    cfg.val_dataloader.dataset.metainfo = dict(classes=tuple(names[1:3]))
    with pytest.raises(DataCheckError, match=r'val_dataloader.dataset has the classes .* but '
                       r'train_dataloader.dataset has'):
        check_detection_data(cfg)


def test_evaluator_reading_another_file_than_its_loader_is_refused(shapes, tmp_path):
    """CocoMetric scores against its own ann_file: a test loader pointed at
    another json would be scored against the val boxes."""
    cfg = _config(shapes, 'coco', tmp_path)
    check_detection_data(cfg)
    other = tmp_path / 'instances_other.json'
    other.write_text(open(shapes + 'annotations/instances_val.json').read())
    cfg.test_dataloader.dataset.ann_file = str(other)
    with pytest.raises(DataCheckError, match=r'test_evaluator.ann_file is .*instances_val.json '
                       r'but test_dataloader.dataset reads .*instances_other.json.*set '
                       r'test_evaluator.ann_file='):
        check_detection_data(cfg)
    check_detection_data(cfg, splits=('train', 'val'))


def test_custom_json_without_classes_names_the_fix(shapes, tmp_path):
    """Without metainfo.classes CocoDataset labels COCO's 80 classes: on a
    json with none of them mmdet failed in its sampler ('need at least one
    array to concatenate')."""
    cfg = _config(shapes, 'coco', tmp_path)
    names = _coco_names(cfg)
    cfg.train_dataloader.dataset.pop('metainfo', None)
    with pytest.raises(DataCheckError, match=r'train_dataloader.dataset.metainfo.classes is not '
                       r'set, so mmdet labels the 80 classes of CocoDataset.METAINFO \(person, '
                       rf".*set metainfo=dict\(classes=\('{names[0]}'"):
        check_detection_data(cfg, splits=('train', ))


def _copy_shapes(shapes, tmp_path):
    import shutil
    root = tmp_path / 'data'
    shutil.copytree(shapes, root)
    return str(root) + '/'


def test_a_missing_image_is_named_before_training(shapes, tmp_path):
    """mmdet opens an image only when its loader reaches it: a missing
    validation image would stop the run after the first epoch's training."""
    root = _copy_shapes(shapes, tmp_path)
    cfg = _config(root, 'coco', tmp_path)
    cfg.val_evaluator.ann_file = cfg.test_evaluator.ann_file = (
        root + 'annotations/instances_val.json')
    check_detection_data(cfg)
    with open(root + 'annotations/instances_val.json') as f:
        gone = json.load(f)['images'][1]['file_name']
    (tmp_path / 'data' / 'VOC2007' / 'JPEGImages' / gone).unlink()
    with pytest.raises(FileNotFoundError, match=rf'val_dataloader.dataset.data_prefix.img: 1 of '
                       rf'the 4 images annotations/instances_val.json lists are not in .*\({gone}\)'
                       ) as err:
        check_detection_data(cfg)
    assert 'sample_validation' not in str(err.value)  # nothing skips a validation image
    voc = _config(root, 'voc', tmp_path)
    with pytest.raises(FileNotFoundError, match=rf'val_dataloader.dataset.data_prefix: 1 of the 4 '
                       rf'images VOC2007/ImageSets/Main/val.txt lists .*\({gone}\)'):
        check_detection_data(voc)


def test_a_missing_image_the_training_filter_drops_is_not_refused(shapes, tmp_path):
    """With ``filter_cfg.filter_empty_gt`` mmdet never reads an image
    without a box of a configured class, so its absence stops nothing."""
    root = _copy_shapes(shapes, tmp_path)
    ann = tmp_path / 'data' / 'annotations' / 'instances_train.json'
    data = json.loads(ann.read_text())
    data['images'].append(dict(id=10 ** 6, file_name='no_boxes.jpg', width=160, height=160))
    ann.write_text(json.dumps(data))
    cfg = _config(root, 'coco', tmp_path)
    cfg.train_dataloader.dataset.filter_cfg = dict(filter_empty_gt=True)
    check_detection_data(cfg, splits=('train', ))
    cfg.train_dataloader.dataset.filter_cfg = dict(filter_empty_gt=False)
    with pytest.raises(FileNotFoundError, match=r'1 of the 9 images .*\(no_boxes.jpg\).*'
                       r"or set sample_validation=dict\(on_error='skip'\)"):
        check_detection_data(cfg, splits=('train', ))
    cfg.sample_validation = dict(on_error='skip')  # the run skips and counts bad samples
    check_detection_data(cfg, splits=('train', ))
    cfg.sample_validation = dict(on_error='raise')
    # mmdet's filter_cfg.min_size drops images with a side below it: not read either
    data['images'][-1].update(width=20, height=20)
    ann.write_text(json.dumps(data))
    cfg.train_dataloader.dataset.filter_cfg = dict(filter_empty_gt=False, min_size=32)
    check_detection_data(cfg, splits=('train', ))
