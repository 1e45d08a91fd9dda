"""Fashion-MNIST's idx files (Debian's ``dataset-fashion-mnist``) as an
ImageFolder: real photographs for testing the classification pipeline."""
import gzip
import os
import os.path as osp
import struct
from typing import Dict, Optional, Tuple

import numpy as np
from PIL import Image

__all__ = ['CLASSES', 'read_idx', 'load_split', 'write_imagefolder']

CLASSES = ('tshirt_top', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt',
           'sneaker', 'bag', 'ankle_boot')
SPLITS = {'train': 'train', 'val': 't10k'}


def read_idx(path: str) -> np.ndarray:
    """Read a (gzipped) idx file: uint8 images ``(N, 28, 28)`` or labels ``(N,)``."""
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        zero, dtype, ndim = struct.unpack('>HBB', f.read(4))
        if zero != 0 or dtype != 0x08:
            raise ValueError(f'{path} is not a uint8 idx file (header {zero}, {dtype:#x})')
        shape = struct.unpack('>' + 'I' * ndim, f.read(4 * ndim))
        data = np.frombuffer(f.read(), dtype=np.uint8)
    if data.size != int(np.prod(shape)):
        raise ValueError(f'{path}: {data.size} bytes of data for shape {shape}')
    return data.reshape(shape)


def load_split(src: str, prefix: str) -> Tuple[np.ndarray, np.ndarray]:
    """Images and labels of one split (``train`` or ``t10k``)."""
    def find(kind: str) -> str:
        for name in (f'{prefix}-{kind}-idx{3 if kind == "images" else 1}-ubyte.gz',
                     f'{prefix}-{kind}-idx{3 if kind == "images" else 1}-ubyte'):
            if osp.isfile(osp.join(src, name)):
                return osp.join(src, name)
        raise FileNotFoundError(f'no {prefix} {kind} idx file in {src} '
                                '(apt-get install dataset-fashion-mnist)')
    images, labels = read_idx(find('images')), read_idx(find('labels'))
    if len(images) != len(labels):
        raise ValueError(f'{src}: {len(images)} {prefix} images but {len(labels)} labels')
    return images, labels


def write_imagefolder(src: str, out: str, per_class: Optional[int] = None,
                      flat_val: bool = False) -> Dict[str, int]:
    """Write ``out/train/<class>/*.png`` and ``out/val`` (class folders, or with
    ``flat_val`` a flat folder plus ``out/meta/val.txt``); keep at most
    ``per_class`` training images per class. Both splits are read before
    anything is written, so a missing or bad source leaves nothing behind.
    Returns the image count per split."""
    sources = {split: load_split(src, prefix) for split, prefix in SPLITS.items()}
    written = {}
    for split, (images, labels) in sources.items():
        kept = {c: 0 for c in range(len(CLASSES))}
        lines = []
        for i, (img, label) in enumerate(zip(images, labels)):
            if split == 'train' and per_class is not None and kept[label] >= per_class:
                continue
            kept[label] += 1
            if split == 'val' and flat_val:
                rel = f'{i:05d}.png'
                lines.append(f'{rel} {CLASSES[label]}\n')
            else:
                rel = osp.join(CLASSES[label], f'{i:05d}.png')
            path = osp.join(out, split, rel)
            os.makedirs(osp.dirname(path), exist_ok=True)
            Image.fromarray(img, mode='L').save(path)
        if lines:
            os.makedirs(osp.join(out, 'meta'), exist_ok=True)
            with open(osp.join(out, 'meta', 'val.txt'), 'w') as f:
                f.writelines(lines)
        written[split] = sum(kept.values())
    return written
