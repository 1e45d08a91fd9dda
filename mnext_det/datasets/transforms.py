"""Classification data pipeline: decode with ``torchvision.io``, augment with
torchvision transforms v2, pack for mmengine's ``ImgDataPreprocessor``.

Images stay ``uint8`` ``(3, H, W)`` RGB tensors up to the model; mean/std
normalisation runs batched on the training device in the data preprocessor,
so workers move a quarter of the bytes a float pipeline would.

Example pipeline (the ImageNet training recipe)::

    [dict(type='DecodeImage'),
     dict(type='TorchvisionTransforms', transforms=[
         dict(type='RandomResizedCrop', size=224, scale=(0.08, 1.0)),
         dict(type='RandomHorizontalFlip'),
         dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4)]),
     dict(type='PackClsInputs')]
"""
import difflib
from typing import Any, Callable, Dict, Sequence, Union

import numpy as np
import torch
import torchvision.transforms.v2 as T
from mmengine.registry import TRANSFORMS
from torchvision.io import ImageReadMode, decode_image, read_file

__all__ = ['ImageDecodeError', 'DecodeImage', 'TorchvisionTransforms', 'PackClsInputs',
           'build_torchvision_transform', 'rgb8_array']


class ImageDecodeError(RuntimeError):
    """An image file could not be read or decoded."""


@TRANSFORMS.register_module()
class DecodeImage:
    """Read ``results['img_path']`` into ``results['img']``, a ``uint8``
    ``(3, H, W)`` RGB tensor (grey and RGBA images are converted; 16-bit
    ones scaled to 8 bits as OpenCV reads them for mmdet: value >> 8).

    torchvision's decoders (libjpeg-turbo, libpng, ...) are tried first and
    PIL second, for formats torchvision lacks (BMP, TIFF).

    Raises:
        ImageDecodeError: naming the file, when neither can decode it.
    """

    def __call__(self, results: Dict[str, Any]) -> Dict[str, Any]:
        path = results['img_path']
        try:
            img = decode_image(read_file(path), mode=ImageReadMode.RGB,
                               apply_exif_orientation=True)
        except (RuntimeError, ValueError) as tv_error:
            img = _decode_with_pil(path, tv_error)
        if img.dtype == torch.uint16:  # a 16-bit PNG: torchvision keeps its depth
            img = T.functional.to_dtype(img, torch.uint8, scale=True)
        results['img'] = img
        results['ori_shape'] = tuple(img.shape[1:])
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}()'


# PIL modes of 16-bit single-channel images; PIL's convert('RGB') clips them
_PIL_16_BIT = ('I;16', 'I;16L', 'I;16B', 'I;16N')


def rgb8_array(im: Any, path: str) -> np.ndarray:
    """A PIL image as an RGB ``uint8`` array ``(H, W, 3)``: 16-bit grey
    scaled as OpenCV reads it (value >> 8), where PIL's ``convert('RGB')``
    clips it (a 16-bit scan became almost all 255).

    Raises:
        ImageDecodeError: 32-bit integer or float pixels, whose 8-bit scale
            the file does not say (the message names it).
    """
    if im.mode in _PIL_16_BIT:
        grey = (np.asarray(im).astype(np.uint16) >> 8).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if im.mode in ('I', 'F'):
        raise ImageDecodeError(f'{path}: {"32-bit integer" if im.mode == "I" else "float"} '
                               'pixels (PIL mode ' + im.mode + '), whose 8-bit scale the file '
                               'does not say; convert it to an 8-bit image')
    return np.asarray(im.convert('RGB'))


def _decode_with_pil(path: str, tv_error: Exception) -> torch.Tensor:
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as im:
            arr = rgb8_array(im, path)
    except (OSError, UnidentifiedImageError, ValueError) as pil_error:
        raise ImageDecodeError(
            f'cannot decode image file {path}: torchvision: {tv_error}; PIL: {pil_error}. '
            'Remove or replace the file (tools/misc/check_dataset.py imagefolder lists '
            'every such file).') from None
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).contiguous()


def build_torchvision_transform(cfg: Union[Dict, Callable]) -> Callable:
    """Build a ``torchvision.transforms.v2`` transform from a config dict.

    ``type`` names a class of ``torchvision.transforms.v2``; a ``transforms``
    list (``RandomChoice``, ``RandomApply``, ``Compose``) is built
    recursively. Callables pass through unchanged.
    """
    if callable(cfg):
        return cfg
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise TypeError(f'a torchvision transform config must be a dict with "type", got {cfg!r}')
    args = dict(cfg)
    name = args.pop('type')
    cls = getattr(T, name, None)
    if not (isinstance(cls, type) and issubclass(cls, T.Transform)):
        names = [n for n in dir(T) if isinstance(getattr(T, n), type)
                 and issubclass(getattr(T, n), T.Transform)]
        close = difflib.get_close_matches(str(name), names, n=1)
        hint = f' Did you mean {close[0]!r}?' if close else ''
        raise KeyError(f'{name!r} is not a transform of torchvision.transforms.v2.{hint}')
    if 'transforms' in args:
        args['transforms'] = [build_torchvision_transform(t) for t in args['transforms']]
    return cls(**args)


@TRANSFORMS.register_module()
class TorchvisionTransforms:
    """Apply torchvision transforms v2 to ``results['img']``.

    Args:
        transforms: Config dicts (``type`` = a ``torchvision.transforms.v2``
            class name, other keys its arguments) or transform objects,
            applied in order.
    """

    def __init__(self, transforms: Sequence[Union[Dict, Callable]]) -> None:
        if not transforms:
            raise ValueError('TorchvisionTransforms needs at least one transform')
        self.transform = T.Compose([build_torchvision_transform(t) for t in transforms])

    def __call__(self, results: Dict[str, Any]) -> Dict[str, Any]:
        results['img'] = self.transform(results['img'])
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.transform})'


@TRANSFORMS.register_module()
class PackClsInputs:
    """Pack ``img`` and ``gt_label`` into ``dict(inputs=, data_samples=)``;
    with ``collate_fn=dict(type='default_collate')`` a batch becomes a
    ``uint8`` NCHW tensor and a label tensor."""

    def __call__(self, results: Dict[str, Any]) -> Dict[str, Any]:
        return dict(inputs=results['img'].contiguous(), data_samples=int(results['gt_label']))

    def __repr__(self) -> str:
        return f'{type(self).__name__}()'
