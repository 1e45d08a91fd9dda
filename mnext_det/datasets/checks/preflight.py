"""Checks of a detection config's data before any training starts.

mmdet reports a missing COCO file, a non-COCO json or a class-count mismatch
late (first epoch) or cryptically (pycocotools assertions), an image file that
is not there only when a loader reaches it (a validation image: after the first
epoch's training), and runs without a word with classes listed in another
order than the json's (every label named as another class).
``check_detection_data`` reads only paths, folder listings and jsons, so
``tools/train.py`` can call it before building the runner; mmdet is imported
only to read a dataset class's default classes, where a config sets none.
"""
import json
import os
import os.path as osp
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from ...config_types import default_classes, type_name

__all__ = ['check_detection_data', 'check_coco_file', 'leaf_datasets', 'DataCheckError']

_VOC_CLASSES_COUNT = 20
_COCO_KEYS = ('images', 'annotations', 'categories')


class DataCheckError(ValueError):
    """A detection dataset that cannot train or evaluate as configured."""


def _join(root: Optional[str], path: str) -> str:
    return path if not root or osp.isabs(path) else osp.join(root, path)


def leaf_datasets(cfg: Dict, where: str) -> Iterator[Tuple[Dict, str]]:
    """Yield the concrete dataset configs inside wrappers (Repeat/Concat/...)."""
    if 'datasets' in cfg:
        for i, sub in enumerate(cfg['datasets']):
            yield from leaf_datasets(sub, f'{where}.datasets[{i}]')
    elif 'dataset' in cfg:
        yield from leaf_datasets(cfg['dataset'], f'{where}.dataset')
    else:
        yield cfg, where


def _read_coco(path: str, where: str) -> Tuple[Dict[str, Any], List[str]]:
    """Read a COCO detection json; return it and its category names."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{where}: annotation file not found: {path}')
    try:
        with open(path) as f:
            data = json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DataCheckError(f'{where}: {path} is not a COCO annotation file '
                             f'(not valid json: {err})') from None
    missing = [k for k in _COCO_KEYS if not isinstance(data, dict) or k not in data]
    if missing:
        raise DataCheckError(f'{where}: {path} is not a COCO annotation file: '
                             f'missing top-level key(s) {missing}')
    if not all(isinstance(data[k], list) for k in _COCO_KEYS):
        raise DataCheckError(f'{where}: {path}: images, annotations and categories '
                             'must be lists')
    names = []
    for cat in data['categories']:
        if not isinstance(cat, dict) or 'id' not in cat or 'name' not in cat:
            raise DataCheckError(f'{where}: {path}: every category needs id and name, '
                                 f'got {cat!r}')
        names.append(cat['name'])
    return data, names


def check_coco_file(path: str, where: str = 'ann_file') -> List[str]:
    """Check that ``path`` is a COCO detection json; return its category names."""
    return _read_coco(path, where)[1]


def _absent_files(paths: Iterable[str]) -> List[str]:
    """The paths that name no file, listing each folder once (a stat per
    image would be slow on a network file system with COCO's 118k)."""
    listings: Dict[str, set] = {}
    absent = []
    for path in paths:
        folder, name = osp.split(path)
        if folder not in listings:
            listings[folder] = set(os.listdir(folder)) if osp.isdir(folder) else set()
        if name not in listings[folder]:
            absent.append(path)
    return absent


def _refuse_absent(paths: List[str], where: str, source: str, folder: str) -> None:
    absent = _absent_files(paths)
    if absent:
        shown = ', '.join(osp.relpath(p, folder) for p in absent[:3])
        skip = (", or set sample_validation=dict(on_error='skip') to train without them"
                if where.startswith('train_') else '')
        raise FileNotFoundError(
            f'{where}: {len(absent)} of the {len(paths)} images {source} lists are not in '
            f'{folder} ({shown}{", ..." if len(absent) > 3 else ""}): the loader would stop '
            f'when it reached the first; add them or take them out of {source}{skip}')


def _loaded_images(ds: Dict, data: Dict[str, Any], classes: Sequence[str]) -> List[Dict]:
    """The json's images a CocoDataset reads: in training, those that its
    ``filter_cfg`` keeps (``filter_empty_gt``: with a box of a configured
    class; ``min_size``: neither side below it), as mmdet's ``filter_data``."""
    images = [im for im in data['images'] if isinstance(im, dict)
              and isinstance(im.get('file_name'), str)]
    filters = ds.get('filter_cfg') or {}
    if ds.get('test_mode') or not filters:
        return images
    if filters.get('filter_empty_gt'):
        cat_ids = {c['id'] for c in data['categories'] if c['name'] in classes}
        with_box = {a.get('image_id') for a in data['annotations']
                    if isinstance(a, dict) and a.get('category_id') in cat_ids}
        images = [im for im in images if im.get('id') in with_box]
    min_size = filters.get('min_size', 0)
    return [im for im in images if not _smaller(im, min_size)]


def _smaller(image: Dict, min_size: float) -> bool:
    sides = (image.get('width'), image.get('height'))
    return all(isinstance(v, (int, float)) for v in sides) and min(sides) < min_size


def _check_coco(ds: Dict, where: str, image_files: bool) -> Tuple[Sequence[str], List[str]]:
    """The dataset's classes and the json's categories it leaves out."""
    root = ds.get('data_root') or ''
    if root and not osp.isdir(root):
        raise FileNotFoundError(f'{where}.data_root: dataset folder not found: {root}')
    data, names = _read_coco(_join(root, ds.get('ann_file', '')), f'{where}.ann_file')
    prefix = ds.get('data_prefix', {}).get('img', '')
    img_dir = _join(root, prefix)
    if not osp.isdir(img_dir):
        raise FileNotFoundError(f'{where}.data_prefix.img: image folder not found: {img_dir}')
    classes = (ds.get('metainfo') or {}).get('classes')
    if classes is None:
        classes = _unset_classes(ds, where, names)
    else:
        _check_class_order(ds, where, names, classes)
    if image_files:
        images = _loaded_images(ds, data, classes)
        _refuse_absent([osp.join(img_dir, im['file_name']) for im in images],
                       f'{where}.data_prefix.img', ds.get('ann_file'), img_dir)
    return classes, [n for n in names if n not in classes]


def _check_class_order(ds: Dict, where: str, names: List[str], classes: Sequence[str]) -> None:
    unknown = [c for c in classes if c not in names]
    if unknown:
        raise DataCheckError(f'{where}.metainfo.classes: {unknown} are not categories of '
                             f'{ds.get("ann_file")} (it has {names})')
    in_json_order = [n for n in names if n in classes]
    if list(classes) != in_json_order:
        raise DataCheckError(
            f'{where}.metainfo.classes lists {list(classes)}, in another order than the '
            f'categories of {ds.get("ann_file")}: mmdet numbers the labels in the json\'s '
            f'order, so every class would carry another class\'s name; set '
            f'metainfo=dict(classes={tuple(in_json_order)})')


def _unset_classes(ds: Dict, where: str, names: List[str]) -> Sequence[str]:
    """The classes a CocoDataset without ``metainfo.classes`` trains on:
    its class's defaults, which must name some category of the json (else
    no box gets a label and mmdet fails deep in its sampler)."""
    defaults = default_classes(ds.get('type'))
    if defaults is None:
        return names
    if not any(c in names for c in defaults):
        raise DataCheckError(
            f'{where}.metainfo.classes is not set, so mmdet labels the {len(defaults)} '
            f'classes of {type_name(ds.get("type"))}.METAINFO ({", ".join(defaults[:3])}, '
            f'...), and {ds.get("ann_file")} has none of them (it has {names}); set '
            f'metainfo=dict(classes={tuple(names)})')
    return defaults


def _check_voc(ds: Dict, where: str, image_files: bool) -> Optional[Sequence[str]]:
    root = ds.get('data_root') or ''
    if root and not osp.isdir(root):
        raise FileNotFoundError(f'{where}.data_root: dataset folder not found: {root}')
    ann = _join(root, ds.get('ann_file', ''))
    if not osp.isfile(ann):
        raise FileNotFoundError(f'{where}.ann_file: image-set file not found: {ann}')
    sub = _join(root, ds.get('data_prefix', {}).get('sub_data_root', ''))
    for folder in ('Annotations', 'JPEGImages'):
        if not osp.isdir(osp.join(sub, folder)):
            raise FileNotFoundError(f'{where}.data_prefix.sub_data_root: no {folder} '
                                    f'folder in {sub}')
    if image_files:
        with open(ann) as f:
            ids = [line.strip() for line in f if line.strip()]
        img_dir = osp.join(sub, ds.get('img_subdir', 'JPEGImages'))
        _refuse_absent([osp.join(img_dir, f'{i}.jpg') for i in ids], f'{where}.data_prefix',
                       ds.get('ann_file'), img_dir)
    return (ds.get('metainfo') or {}).get('classes')


def _check_evaluator_file(ev: Dict, split: str, loader: Dict) -> None:
    """A ``CocoMetric`` scores against its own ``ann_file``: it must be the
    one its loader's (single) dataset reads, or the predictions of one split
    are scored against another split's boxes. A file its CocoDataset read
    was checked as a COCO file with it, and is not read again."""
    leaves = list(leaf_datasets(loader.get('dataset') or {}, f'{split}_dataloader.dataset'))
    if len(leaves) == 1 and leaves[0][0].get('ann_file'):
        ds, where = leaves[0]
        read = _join(ds.get('data_root') or '', ds['ann_file'])
        if osp.realpath(read) != osp.realpath(ev['ann_file']):
            raise DataCheckError(
                f'{split}_evaluator.ann_file is {ev["ann_file"]} but {where} reads {read}: '
                f'CocoMetric would score the predictions against the other file\'s boxes; '
                f'set {split}_evaluator.ann_file={read}')
        if type_name(ds.get('type')).endswith('CocoDataset'):
            return
    check_coco_file(ev['ann_file'], f'{split}_evaluator.ann_file')


def check_detection_data(cfg, splits: Sequence[str] = ('train', 'val', 'test'),
                         image_files: bool = True) -> List[str]:
    """Check the datasets and evaluators of a detection config.

    For every ``{split}_dataloader`` present: CocoDataset (files exist, the
    json is COCO, configured classes are categories of it, in its order) and
    VOCDataset (image set, Annotations and JPEGImages exist); with
    ``image_files``, that every image the dataset will read is there (in the
    train split only if ``cfg.sample_validation`` does not skip bad samples); then that the
    head's ``num_classes`` equals the number of dataset classes, that every
    dataset has the same classes in the same order, and that a
    ``CocoMetric``'s ``ann_file`` is a COCO file, the one its loader reads.
    Raises ``FileNotFoundError`` or :class:`DataCheckError` naming the config key.
    Returns a line per dataset that leaves categories of its json out (their
    boxes are neither trained on nor scored), for the tools to print.
    """
    head = cfg.get('model', {}).get('bbox_head') or {}
    num_classes = head.get('num_classes')
    first: Optional[Tuple[List, str]] = None
    notes = []
    validation = cfg.get('sample_validation', {})
    skips = isinstance(validation, dict) and validation.get('on_error') == 'skip'
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader or 'dataset' not in loader:
            continue
        files = image_files and not (split == 'train' and skips)
        for ds, where in leaf_datasets(loader['dataset'], f'{split}_dataloader.dataset'):
            kind = type_name(ds.get('type'))
            if kind.endswith('CocoDataset'):
                classes, left_out = _check_coco(ds, where, files)
                if left_out:
                    notes.append(f'{where}: {len(left_out)} categories of {ds.get("ann_file")} '
                                 f'are not in its classes, so their boxes are neither trained '
                                 f'on nor scored: {", ".join(map(str, left_out[:5]))}'
                                 + (', ...' if len(left_out) > 5 else ''))
            elif kind.endswith('VOCDataset'):
                classes = _check_voc(ds, where, files)
                if classes is None:
                    classes = [None] * _VOC_CLASSES_COUNT
            else:
                continue
            if num_classes is not None and len(classes) != num_classes:
                raise DataCheckError(
                    f'model.bbox_head.num_classes is {num_classes} but {where} has '
                    f'{len(classes)} classes; set num_classes={len(classes)} or '
                    'metainfo=dict(classes=...) on the dataset')
            if None not in classes:
                if first is None:
                    first = (list(classes), where)
                elif list(classes) != first[0]:
                    raise DataCheckError(
                        f'{where} has the classes {list(classes)} but {first[1]} has '
                        f'{first[0]}: label i would mean another class in each; set the same '
                        'metainfo=dict(classes=...) on both')
        evaluator = cfg.get(f'{split}_evaluator')
        for ev in (evaluator if isinstance(evaluator, (list, tuple)) else [evaluator]):
            if ev and type_name(ev.get('type')).endswith('CocoMetric') and ev.get('ann_file'):
                _check_evaluator_file(ev, split, loader or {})
    return notes
