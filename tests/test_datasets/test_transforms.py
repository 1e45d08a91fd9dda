"""DecodeImage and TorchvisionTransforms: a corrupt file is named, grey and BMP
images become RGB, an unknown transform name gets a suggestion."""
import numpy as np
import pytest
from mmengine.registry import DATASETS
from PIL import Image

from mnext_det.datasets import ImageDecodeError

from ..conftest import make_image_folder
from .image_folder_build import build_image_folder


def test_corrupt_image_names_the_file(tmp_path):
    root = make_image_folder(str(tmp_path))
    bad = tmp_path / 'train' / 'green' / 'broken.jpg'
    bad.write_bytes(b'\xff\xd8\xff\xe0 this is not really a jpeg')
    ds = build_image_folder(data_root=root, data_prefix='train')
    idx = [ds.get_data_info(i)['img_path'] for i in range(len(ds))].index(str(bad))
    with pytest.raises(ImageDecodeError, match=r'cannot decode image file .*broken.jpg'):
        ds[idx]


def test_grey_and_bmp_images_become_rgb(tmp_path):
    folder = tmp_path / 'train' / 'a'
    folder.mkdir(parents=True)
    Image.fromarray(np.full((20, 30), 77, np.uint8), mode='L').save(folder / 'g.png')
    Image.fromarray(np.full((20, 30, 3), 9, np.uint8)).save(folder / 'b.bmp')
    ds = DATASETS.build(dict(type='ImageFolderDataset', data_root=str(tmp_path),
                             data_prefix='train', pipeline=[dict(type='DecodeImage'),
                                                            dict(type='PackClsInputs')]))
    shapes = {tuple(ds[i]['inputs'].shape) for i in range(2)}
    assert shapes == {(3, 20, 30)}


def test_unknown_torchvision_transform_suggests_name():
    from mnext_det.datasets import build_torchvision_transform
    with pytest.raises(KeyError, match="'RandomResizeCrop'.*Did you mean 'RandomResizedCrop'"):
        build_torchvision_transform(dict(type='RandomResizeCrop', size=8))
