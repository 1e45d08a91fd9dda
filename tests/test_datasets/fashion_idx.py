"""Tiny Fashion-MNIST idx files for the tests: each image a bright rectangle
on black, labelled as asked, in the layout of Debian's dataset-fashion-mnist."""
import gzip
import os
import os.path as osp
import struct
from typing import Sequence

import numpy as np


def write_idx(path: str, array: np.ndarray, gz: bool = True) -> None:
    """Write a uint8 ``array`` as an idx file (gzipped when ``gz``)."""
    header = struct.pack('>HBB', 0, 0x08, array.ndim) + struct.pack('>' + 'I' * array.ndim,
                                                                    *array.shape)
    with (gzip.open if gz else open)(path, 'wb') as f:
        f.write(header + array.astype(np.uint8).tobytes())


def rectangles(n: int, seed: int) -> np.ndarray:
    """``n`` 28 x 28 images, each a random rectangle of value 200 on 0."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28), np.uint8)
    for img in images:
        y0, x0 = rng.integers(0, 14, 2)
        img[y0:y0 + rng.integers(6, 14), x0:x0 + rng.integers(6, 14)] = 200
    return images


def write_fashion_src(folder: str, train_labels: Sequence[int], test_labels: Sequence[int],
                      gz: bool = True) -> str:
    """The four idx files of a tiny Fashion-MNIST in ``folder``; returns it."""
    suffix = '.gz' if gz else ''
    os.makedirs(folder, exist_ok=True)
    for prefix, labels, seed in (('train', train_labels, 0), ('t10k', test_labels, 1)):
        labels = np.asarray(labels, np.uint8)
        write_idx(osp.join(folder, f'{prefix}-images-idx3-ubyte{suffix}'),
                  rectangles(len(labels), seed), gz)
        write_idx(osp.join(folder, f'{prefix}-labels-idx1-ubyte{suffix}'), labels, gz)
    return folder
