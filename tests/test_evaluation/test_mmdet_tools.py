"""mnext_det/evaluation/mmdet_tools.py: mmdet's confusion-matrix plot, side by
side, at a size where its title and labels fit."""
import numpy as np
import pytest
from PIL import Image

pytest.importorskip('mmdet')


def test_few_classes_get_a_readable_confusion_matrix(tmp_path):
    """mmdet sizes the figure at half an inch per class: 2 x 1.6 inches
    (360 x 288 pixels) for three, its title and labels overlapping."""
    from mnext_det.evaluation.mmdet_tools import plot_confusion_matrices
    matrix = np.array([[5, 1, 0, 1], [0, 4, 1, 2], [1, 0, 6, 0], [2, 1, 0, 0]])
    path = str(tmp_path / 'cm.png')
    parts = plot_confusion_matrices([matrix, matrix], ['apple', 'banana', 'kiwi'], ['a', 'b'],
                                    path)
    sizes = [Image.open(p).size for p in parts]
    assert sizes[0] == sizes[1] and sizes[0][0] >= 700 and sizes[0][1] >= 650  # ~5 x 4 in, cropped
    assert Image.open(path).size == (2 * sizes[0][0], sizes[0][1])
    long = plot_confusion_matrices([matrix], ['apple', 'banana', 'kiwi'],
                                   ['SSDLite-MobileNeXt-0.5 with a long name'],
                                   str(tmp_path / 'long.png'))
    assert Image.open(long[0]).size[0] > sizes[0][0]  # widened for the title, not cut
    many = np.ones((21, 21))
    big = plot_confusion_matrices([many], [f'c{i}' for i in range(20)], ['voc'],
                                  str(tmp_path / 'voc.png'))
    assert Image.open(big[0]).size == (1890, 1512)  # mmdet's own size kept
