"""Write Fashion-MNIST (the idx files of Debian's ``dataset-fashion-mnist``)
as an ImageFolder: ``OUT/train/<class>/<n>.png`` and ``OUT/val/<class>/<n>.png``,
or with ``--flat-val`` ``OUT/val/<n>.png`` plus ``OUT/meta/val.txt``.

    apt-get install dataset-fashion-mnist
    python tools/dataset_converters/fashion_mnist_to_imagefolder.py /tmp/fashion-mnist
"""
import argparse
import gzip
import os
import os.path as osp
import struct
from typing import Tuple

import numpy as np
from PIL import Image

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out', help='output folder (outside the repository)')
    parser.add_argument('--src', default='/usr/share/datasets/fashion-mnist',
                        help='folder of the idx files')
    parser.add_argument('--per-class', type=int, default=None,
                        help='keep at most this many training images per class')
    parser.add_argument('--flat-val', action='store_true',
                        help='flat val folder plus meta/val.txt instead of class folders')
    args = parser.parse_args()
    for split, prefix in SPLITS.items():
        images, labels = load_split(args.src, prefix)
        kept = {c: 0 for c in range(len(CLASSES))}
        lines = []
        for i, (img, label) in enumerate(zip(images, labels)):
            if split == 'train' and args.per_class is not None and kept[label] >= args.per_class:
                continue
            kept[label] += 1
            if split == 'val' and args.flat_val:
                rel = f'{i:05d}.png'
                lines.append(f'{rel} {CLASSES[label]}\n')
            else:
                rel = osp.join(CLASSES[label], f'{i:05d}.png')
            path = osp.join(args.out, split, rel)
            os.makedirs(osp.dirname(path), exist_ok=True)
            Image.fromarray(img, mode='L').save(path)
        if lines:
            os.makedirs(osp.join(args.out, 'meta'), exist_ok=True)
            with open(osp.join(args.out, 'meta', 'val.txt'), 'w') as f:
                f.writelines(lines)
        print(f'{split}: {sum(kept.values())} images in {len(CLASSES)} classes')


if __name__ == '__main__':
    main()
