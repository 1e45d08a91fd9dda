"""Fashion-MNIST's idx files read and written as an ImageFolder."""
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from mnext_det.datasets.fashion_mnist import CLASSES, load_split, read_idx, write_imagefolder

from .fashion_idx import rectangles, write_fashion_src, write_idx


@pytest.mark.parametrize('gz', [True, False])
def test_read_idx_returns_what_was_written(tmp_path, gz):
    images = rectangles(3, seed=5)
    path = str(tmp_path / ('x.gz' if gz else 'x'))
    write_idx(path, images, gz=gz)
    np.testing.assert_array_equal(read_idx(path), images)


def test_read_idx_names_the_file_of_a_bad_header_or_size(tmp_path):
    bad = tmp_path / 'bad'
    bad.write_bytes(b'\x00\x00\x0d\x01' + b'\x00\x00\x00\x02' + b'\x00' * 8)  # float32 idx
    with pytest.raises(ValueError, match=f'{bad} is not a uint8 idx file'):
        read_idx(str(bad))
    short = str(tmp_path / 'short')
    write_idx(short, np.zeros(10, np.uint8), gz=False)
    with open(short, 'ab') as f:
        f.write(b'\x00')
    with pytest.raises(ValueError, match='short: 11 bytes of data for shape'):
        read_idx(short)


def test_load_split_names_the_missing_file_and_a_count_mismatch(tmp_path):
    with pytest.raises(FileNotFoundError, match=f'no train images idx file in {tmp_path}'):
        load_split(str(tmp_path), 'train')
    src = write_fashion_src(str(tmp_path), [0, 1, 2], [3], gz=False)
    images, labels = load_split(src, 'train')
    assert images.shape == (3, 28, 28) and labels.tolist() == [0, 1, 2]
    write_idx(osp.join(src, 't10k-labels-idx1-ubyte'), np.zeros(2, np.uint8), gz=False)
    with pytest.raises(ValueError, match='1 t10k images but 2 labels'):
        load_split(src, 't10k')


def test_write_imagefolder_keeps_per_class_and_writes_a_flat_val(tmp_path):
    src = write_fashion_src(str(tmp_path / 'src'), [0, 0, 0, 1, 9], [2, 2])
    out = str(tmp_path / 'out')
    assert write_imagefolder(src, out, per_class=2, flat_val=True) == dict(train=4, val=2)
    assert sorted(os.listdir(osp.join(out, 'train'))) == sorted(CLASSES[i] for i in (0, 1, 9))
    assert len(os.listdir(osp.join(out, 'train', CLASSES[0]))) == 2
    with open(osp.join(out, 'meta', 'val.txt')) as f:
        assert f.read().split() == ['00000.png', CLASSES[2], '00001.png', CLASSES[2]]
    saved = np.asarray(Image.open(osp.join(out, 'val', '00001.png')))
    np.testing.assert_array_equal(saved, load_split(src, 't10k')[0][1])


def test_write_imagefolder_writes_nothing_when_a_split_is_missing(tmp_path):
    """The val split (t10k) is read before the train images are written."""
    src = write_fashion_src(str(tmp_path / 'src'), [0, 1], [2])
    os.remove(osp.join(src, 't10k-labels-idx1-ubyte.gz'))
    with pytest.raises(FileNotFoundError, match='no t10k labels idx file in'):
        write_imagefolder(src, str(tmp_path / 'out'))
    assert not osp.exists(tmp_path / 'out')
