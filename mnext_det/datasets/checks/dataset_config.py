"""Scan the dataset an mmengine/mmdet config (or an ImageFolder description)
names, with the checks of :mod:`.scan`."""
import os.path as osp
from typing import Any, Dict, List, Tuple

from ...config_types import type_name
from .preflight import DataCheckError, check_detection_data, leaf_datasets
from .scan import (VOC_CLASSES, DatasetReport, check_coco, check_image_files, check_image_folder,
                   check_voc)

__all__ = ['DatasetLayoutError', 'parse_classes', 'check_image_folder_dataset',
           'check_config_dataset', 'config_splits']


class DatasetLayoutError(ValueError):
    """The dataset's files cannot even be listed (bad label file, class list...)."""


def parse_classes(value: str) -> Tuple[str, ...]:
    """Class names from a file with one per line, or comma-separated."""
    if osp.isfile(value):
        with open(value, encoding='utf-8') as f:
            return tuple(ln.strip() for ln in f if ln.strip())
    return tuple(c.strip() for c in value.split(',') if c.strip())


def _prefix(dataset: Dict[str, Any], key: str) -> str:
    prefix = dataset.get('data_prefix', '')
    return prefix.get(key, '') if isinstance(prefix, dict) else prefix


def check_image_folder_dataset(dataset: Dict[str, Any], decode: bool,
                               workers: int) -> DatasetReport:
    """List images as ``ImageFolderDataset(**dataset)`` does, then check every
    file; its layout and label errors raise :class:`DatasetLayoutError`."""
    from ..image_folder import ImageFolderDataset
    keys = ('data_root', 'data_prefix', 'ann_file', 'classes', 'num_classes')
    try:
        ds = ImageFolderDataset(serialize_data=False, **{k: dataset[k] for k in keys
                                                         if dataset.get(k) is not None})
    except (ValueError, FileNotFoundError) as e:
        raise DatasetLayoutError(f'{type(e).__name__}: {e}') from e
    paths = [ds.get_data_info(i)['img_path'] for i in range(len(ds))]
    return check_image_files(paths, ds.ann_file or ds.img_dir, decode=decode, workers=workers)


def config_splits(config: str) -> List[str]:
    """The splits (train, val, test) whose ``{split}_dataloader.dataset``
    ``config`` sets, test left out when it reads the same dataset as val."""
    from ...config_file import read_config
    cfg = read_config(config)
    datasets = {split: (cfg.get(f'{split}_dataloader') or {}).get('dataset')
                for split in ('train', 'val', 'test')}
    return [split for split, ds in datasets.items()
            if ds is not None and not (split == 'test' and ds == datasets['val'])]


def check_config_dataset(config: str, split: str = 'train', decode: bool = True,
                         workers: int = 1, check_images: bool = True,
                         tolerance: float = 1.0) -> DatasetReport:
    """Check the dataset that ``config`` loads for ``split`` (train, val or
    test): COCO, VOC or ImageFolder; anything else is a ``ValueError``. A
    detection config must first pass the checks ``tools/train.py`` makes
    (classes, ``num_classes``, evaluator file; the image files are left to
    the scan, which lists each one): :class:`DatasetLayoutError`."""
    from ...config_file import read_config
    cfg = read_config(config)
    loader = cfg.get(f'{split}_dataloader')
    if not loader or 'dataset' not in loader:
        raise ValueError(f'{config}: no {split}_dataloader.dataset')
    try:
        check_detection_data(cfg, splits=(split, ), image_files=False)
    except DataCheckError as e:
        raise DatasetLayoutError(f'{config}: {e}') from e
    ds, _ = next(leaf_datasets(loader['dataset'], f'{split}_dataloader.dataset'))
    kind = type_name(ds.get('type'))
    root = ds.get('data_root', '') or ''
    common = dict(decode=decode, workers=workers)
    if kind == 'CocoDataset' or str(ds.get('ann_file', '')).endswith('.json'):
        return check_coco(osp.join(root, ds['ann_file']), osp.join(root, _prefix(ds, 'img')),
                          check_images=check_images, tolerance=tolerance, **common)
    if kind in ('VOCDataset', 'XMLDataset'):
        voc_root = osp.join(root, _prefix(ds, 'sub_data_root'))
        classes = (ds.get('metainfo') or {}).get('classes', VOC_CLASSES)
        return check_voc(voc_root, osp.splitext(osp.basename(ds['ann_file']))[0],
                         tuple(classes), check_images=check_images, tolerance=tolerance,
                         **common)
    if kind == 'ImageFolderDataset':
        if ds.get('ann_file') or ds.get('classes') is not None:
            return check_image_folder_dataset(ds, **common)
        return check_image_folder(osp.join(root, _prefix(ds, 'img_path')), **common)
    raise ValueError(f'{config}: cannot check a dataset of type {kind!r} '
                     '(CocoDataset, VOCDataset, ImageFolderDataset)')
