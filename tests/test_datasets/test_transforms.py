"""DecodeImage and TorchvisionTransforms: a corrupt file is named, grey and BMP
images become RGB, an unknown transform name gets a suggestion."""
import numpy as np
import pytest
import torch
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


@pytest.mark.parametrize('suffix', ['png', 'tif'])  # torchvision decodes the PNG, PIL the TIFF
def test_16_bit_images_are_read_as_opencv_reads_them_for_mmdet(tmp_path, suffix):
    """torchvision kept a 16-bit PNG as uint16 (inputs up to 1128 after the
    ImageNet normalisation) and PIL's convert('RGB') clipped one to 255."""
    import mmcv

    from mnext_det.datasets.transforms import DecodeImage
    from mnext_det.deploy.onnxruntime_model import read_image
    grey = (np.arange(48 * 40).reshape(48, 40) * 27).astype(np.uint16)
    path = str(tmp_path / f'scan.{suffix}')
    Image.fromarray(grey).save(path)
    img = DecodeImage()({'img_path': path})['img']
    expected = mmcv.imread(path)[..., ::-1]  # BGR -> RGB, as mmdet's loader gives it
    assert expected.dtype == np.uint8 and len(np.unique(expected)) > 150  # spread, not clipped
    assert img.dtype == torch.uint8
    np.testing.assert_array_equal(img.permute(1, 2, 0).numpy(), expected)
    np.testing.assert_array_equal(read_image(path), expected)


def test_float_pixels_are_refused_naming_the_file(tmp_path):
    from mnext_det.datasets.transforms import DecodeImage
    from mnext_det.deploy.onnxruntime_model import read_image
    path = str(tmp_path / 'depth.tif')
    Image.fromarray(np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)).save(path)
    with pytest.raises(ImageDecodeError, match=r'depth.tif: float pixels \(PIL mode F\)'):
        DecodeImage()({'img_path': path})
    with pytest.raises(ValueError, match=r'cannot read image .*depth.tif: .*float pixels'):
        read_image(path)
