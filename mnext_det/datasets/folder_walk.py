"""The one walk of a ``<root>/<class>/**/<image>`` folder, shared by
``ImageFolderDataset`` and the data checks, and the image list of the inference
tools' file-or-folder arguments. Plain python."""
import os
import os.path as osp
from typing import List, Sequence, Tuple

__all__ = ['IMG_EXTENSIONS', 'is_image_file', 'class_folders', 'walk_class_folder', 'list_images',
           'skipped_note', 'output_stems', 'refuse_unreadable']

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


def list_images(paths: Sequence[str]) -> Tuple[List[str], List[str]]:
    """``(images, others)`` named by ``paths``: a file is an image as given, a
    folder gives its image files (not recursive, hidden ones ignored, sorted),
    in the order given; ``others`` are the folders' files whose names are not
    an image's (:data:`IMG_EXTENSIONS`), for the tools to say what they skip.

    Raises ``FileNotFoundError`` naming a path that does not exist or a folder
    without images."""
    images: List[str] = []
    others: List[str] = []
    for path in paths:
        if osp.isfile(path):
            images.append(path)
        elif osp.isdir(path):
            files = sorted(osp.join(path, f) for f in os.listdir(path)
                           if not f.startswith('.') and osp.isfile(osp.join(path, f)))
            found = [f for f in files if is_image_file(f)]
            if not found:
                raise FileNotFoundError(f'no images ({", ".join(IMG_EXTENSIONS)}) in folder '
                                        f'{path}')
            images.extend(found)
            others.extend(f for f in files if not is_image_file(f))
        else:
            raise FileNotFoundError(f'image file or folder not found: {path}')
    return images, others


def skipped_note(others: Sequence[str], shown: int = 5) -> str:
    """A line naming the folder files :func:`list_images` left out; empty
    when it left none."""
    if not others:
        return ''
    more = f', ... ({len(others) - shown} more)' if len(others) > shown else ''
    return (f'skipped {len(others)} file(s) whose names are not an image\'s '
            f'({", ".join(IMG_EXTENSIONS)}): {", ".join(others[:shown])}{more}')


def output_stems(paths: Sequence[str]) -> List[str]:
    """A distinct output name (without extension) for each of ``paths``: the
    file's stem, or stem and extension (``photo_jpg``) where several files
    share a stem (``photo.jpg`` and ``photo.png``), so that no output
    overwrites another.

    Raises ``ValueError`` naming a path given twice, or a file name that two
    folders hold (``a/photo.jpg`` and ``b/photo.jpg``)."""
    seen = set()
    for path in paths:
        if osp.abspath(path) in seen:
            raise ValueError(f'image {path} is given twice')
        seen.add(osp.abspath(path))
    stems = [osp.splitext(osp.basename(p))[0] for p in paths]
    names = [osp.basename(p).replace('.', '_') if stems.count(s) > 1 else s
             for p, s in zip(paths, stems)]
    for path, name in zip(paths, names):
        if names.count(name) > 1:
            raise ValueError(f'images named {osp.basename(path)} in two folders: give one '
                             'folder at a time (their outputs would overwrite each other)')
    return names


def refuse_unreadable(unreadable: Sequence[str], total: int, done: str) -> None:
    """End an inference tool's run over ``total`` images that skipped the
    ``unreadable`` ones (the others were ``done``, e.g. ``'drawn'``) with a
    ``ValueError`` naming them; nothing when none was skipped."""
    if unreadable:
        raise ValueError(f'{len(unreadable)} of {total} files could not be read as images (the '
                         f'others were {done}): {", ".join(unreadable)}')
