"""The one walk of a ``<root>/<class>/**/<image>`` folder, shared by
``ImageFolderDataset`` and the data checks. Plain python."""
import os
import os.path as osp
from typing import List, Tuple

__all__ = ['IMG_EXTENSIONS', 'is_image_file', 'class_folders', 'walk_class_folder']

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp')


def is_image_file(name: str) -> bool:
    """Whether ``name`` has one of :data:`IMG_EXTENSIONS` (any case)."""
    return name.lower().endswith(IMG_EXTENSIONS)


def class_folders(root: str) -> List[str]:
    """Sorted names of the sub-folders of ``root``, hidden ones ignored."""
    return sorted(e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith('.'))


def walk_class_folder(class_dir: str) -> Tuple[List[str], List[str]]:
    """``(image files, other files)`` under ``class_dir``, recursively, in
    sorted order, following links, hidden files ignored."""
    images: List[str] = []
    others: List[str] = []
    for folder, dirs, files in os.walk(class_dir, followlinks=True):
        dirs.sort()
        for f in sorted(files):
            if not f.startswith('.'):
                (images if is_image_file(f) else others).append(osp.join(folder, f))
    return images, others
