"""ImageNet-style classification folders as an mmengine dataset.

Two layouts are read:

* class folders: ``<root>/<prefix>/<class>/**/<image>`` (ImageNet's
  ``train/<wnid>/*.JPEG``, a ``val/<wnid>/*.JPEG`` folder, any ImageFolder);
* a flat folder plus a label file: ``<root>/<prefix>/<image>`` and lines
  ``<image path relative to the folder> <label>`` (mmpretrain's
  ``meta/val.txt``), the label being a class name or a 0-based class index.

The class list comes from the data: the sorted class folders, or another
folder's (``classes='train'`` for val), or a text file with one name per
line. It is checked against ``num_classes`` from the config.
"""
import os.path as osp
from collections import Counter
from typing import Dict, List, Optional, Sequence, Tuple, Union

from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from mmengine.registry import DATASETS

from .folder_walk import IMG_EXTENSIONS, class_folders, walk_class_folder

__all__ = ['IMG_EXTENSIONS', 'ImageFolderDataset', 'find_classes', 'scan_class_folders']

def find_classes(folder: str) -> List[str]:
    """Sorted names of the sub-folders of ``folder`` (hidden ones ignored).

    Raises:
        FileNotFoundError: ``folder`` does not exist.
        ValueError: ``folder`` has no sub-folders.
    """
    if not osp.isdir(folder):
        raise FileNotFoundError(f'image folder not found: {folder}')
    classes = class_folders(folder)
    if not classes:
        raise ValueError(f'{folder} has no class sub-folders (expected <class>/<image> files)')
    return classes


def scan_class_folders(folder: str, classes: Sequence[str],
                       class_source: str) -> Tuple[List[Tuple[str, int]], List[str]]:
    """List ``(image path, class index)`` under ``folder/<class>/``.

    Returns:
        The samples and the paths of files skipped because their extension
        is not an image extension.

    Raises:
        ValueError: a sub-folder is not in ``classes`` (e.g. a val class
            missing from train), or a class folder holds no image.
    """
    index = {c: i for i, c in enumerate(classes)}
    present = find_classes(folder)
    unknown = [c for c in present if c not in index]
    if unknown:
        raise ValueError(
            f'{folder}: class folder(s) {unknown[:10]} are not among the {len(classes)} '
            f'classes of {class_source}; a model trained on those classes cannot predict '
            'them. Remove the folder(s) or add the class to the training data.')
    samples: List[Tuple[str, int]] = []
    skipped: List[str] = []
    for name in present:
        class_dir = osp.join(folder, name)
        images, others = walk_class_folder(class_dir)
        samples += [(path, index[name]) for path in images]
        skipped += others
        if not images:
            raise ValueError(
                f'class folder {class_dir} holds no image file (extensions {IMG_EXTENSIONS}); '
                'remove the empty class or add images to it')
    return samples, skipped


@DATASETS.register_module()
class ImageFolderDataset(BaseDataset):
    """Classification dataset over an image folder (see the module docstring).

    Each sample is ``dict(img_path=..., gt_label=int)`` before the pipeline.
    Files whose extension is not an image extension are skipped and counted
    in a warning; a file that has an image extension but cannot be decoded
    raises :class:`~mnext_det.datasets.transforms.ImageDecodeError` naming it.

    Args:
        data_root: Dataset root. Default: ``''``.
        data_prefix: Image folder relative to ``data_root`` (``'train'`` or
            ``dict(img_path='train')``). Default: ``''``.
        ann_file: Optional label file relative to ``data_root``, with lines
            ``<image path relative to data_prefix> <label>`` (whitespace or
            comma separated). A label that is a class name maps by name,
            otherwise it must be a class index. Needs ``classes``.
            Default: ``''`` (class folders).
        classes: The class list: ``None`` for the sub-folders of the image
            folder, a sequence of names, or a path relative to ``data_root``
            of a text file (one name per line) or of a folder whose
            sub-folders are the classes (``'train'`` for ImageNet val).
        num_classes: Expected class count; a different count in the data
            raises ``ValueError``. Default: ``None`` (no check).
        pipeline: Transform configs (``DecodeImage``, ``TorchvisionTransforms``,
            ``PackClsInputs``).
        **kwargs: Other :class:`mmengine.dataset.BaseDataset` arguments
            (``indices``, ``test_mode``, ``lazy_init``, ``serialize_data``).
    """

    def __init__(self,
                 data_root: str = '',
                 data_prefix: Union[str, Dict[str, str]] = '',
                 ann_file: str = '',
                 classes: Union[None, str, Sequence[str]] = None,
                 num_classes: Optional[int] = None,
                 pipeline: Sequence = (),
                 **kwargs) -> None:
        if isinstance(data_prefix, str):
            data_prefix = dict(img_path=data_prefix)
        if num_classes is not None and (not isinstance(num_classes, int) or num_classes < 1):
            raise ValueError(f'num_classes must be an int >= 1 or None, got {num_classes!r}')
        self.class_spec = classes
        self.expected_num_classes = num_classes
        self.num_skipped = 0  # files skipped for their extension, set by load_data_list
        super().__init__(ann_file=ann_file, data_root=data_root, data_prefix=data_prefix,
                         pipeline=list(pipeline), **kwargs)

    @property
    def img_dir(self) -> str:
        """The image folder (``data_root`` joined with ``data_prefix``)."""
        return self.data_prefix['img_path']

    def _resolve_classes(self) -> Tuple[List[str], str]:
        spec = self.class_spec
        if spec is None:
            if self.ann_file:
                raise ValueError(
                    f'ann_file {self.ann_file} needs classes= (the training folder, e.g. '
                    "classes='train', a class-list file or a list of names) to map its labels")
            return find_classes(self.img_dir), self.img_dir
        if isinstance(spec, str):
            path = spec if osp.isabs(spec) else osp.join(self.data_root, spec)
            if osp.isdir(path):
                return find_classes(path), path
            if osp.isfile(path):
                with open(path) as f:
                    names = [line.strip() for line in f if line.strip()]
                if not names:
                    raise ValueError(f'class-list file {path} is empty')
                return names, path
            raise FileNotFoundError(f'classes={spec!r}: neither a folder nor a file: {path}')
        names = [str(c) for c in spec]
        if not names:
            raise ValueError('classes is an empty list')
        return names, 'the classes list of the config'

    def load_data_list(self) -> List[dict]:
        """Scan the folder (or read the label file) and check the classes."""
        classes, source = self._resolve_classes()
        dupes = sorted(c for c, n in Counter(classes).items() if n > 1)
        if dupes:
            raise ValueError(f'{source}: duplicate class names {dupes[:10]}')
        skipped: List[str] = []
        if self.ann_file:
            self._check_num_classes(classes, source)
            samples = self._read_ann_file(classes)
        else:  # scanned first: an empty class folder is named as such, not as a class too many
            samples, skipped = scan_class_folders(self.img_dir, classes, source)
            self._check_num_classes(classes, source)
        self._metainfo['classes'] = tuple(classes)
        if skipped:
            print_log(f'{self.img_dir}: skipped {len(skipped)} file(s) without an image '
                      f'extension, e.g. {skipped[:3]}', logger='current', level=30)
        if not samples:
            raise ValueError(f'{self.img_dir}: no images found')
        self.num_skipped = len(skipped)
        return [dict(img_path=p, gt_label=label) for p, label in samples]

    def _check_num_classes(self, classes: List[str], source: str) -> None:
        if self.expected_num_classes is not None and len(classes) != self.expected_num_classes:
            n = len(classes)
            raise ValueError(
                f'{source} has {n} classes but the config says num_classes='
                f'{self.expected_num_classes}; set num_classes of the model and of the '
                f'datasets to {n} (e.g. --cfg-options model.num_classes={n} '
                + ' '.join(f'{split}_dataloader.dataset.num_classes={n}'
                           for split in ('train', 'val', 'test')) + ')')

    def _read_ann_file(self, classes: List[str]) -> List[Tuple[str, int]]:
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'label file not found: {self.ann_file}')
        index = {c: i for i, c in enumerate(classes)}
        samples = []
        with open(self.ann_file) as f:
            for lineno, line in enumerate(f, 1):
                fields = line.replace(',', ' ').split()
                if not fields:
                    continue
                where = f'{self.ann_file}:{lineno}'
                if len(fields) != 2:
                    raise ValueError(f'{where}: expected "<image> <label>", got {line.strip()!r}')
                name, label = fields
                as_index = int(label) if label.isdigit() and int(label) < len(classes) else None
                if label in index and as_index is not None and index[label] != as_index:
                    raise ValueError(
                        f'{where}: label {label!r} is both the class named {label!r} (index '
                        f'{index[label]}) and the index {label}: with classes named by numbers '
                        'the label file cannot say which; list the classes in numeric order '
                        '(a class-list file, one name per line) so that names and indices agree')
                if label in index:
                    target = index[label]
                elif label.lstrip('-').isdigit() and 0 <= int(label) < len(classes):
                    target = int(label)
                else:
                    raise ValueError(
                        f'{where}: label {label!r} is neither one of the {len(classes)} class '
                        f'names nor an index in [0, {len(classes)})')
                path = osp.join(self.img_dir, name)
                if not osp.isfile(path):
                    raise FileNotFoundError(f'{where}: image file not found: {path}')
                samples.append((path, target))
        return samples
