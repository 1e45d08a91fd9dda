"""An ImageFolderDataset through a training pipeline of torchvision v2
transforms, as the classification configs build it."""
from mmengine.registry import DATASETS

from mnext_det.datasets import ImageFolderDataset

PIPELINE = [
    dict(type='DecodeImage'),
    dict(type='TorchvisionTransforms',
         transforms=[dict(type='RandomChoice', transforms=[
             dict(type='RandomResizedCrop', size=32, interpolation='bilinear'),
             dict(type='RandomResizedCrop', size=32, interpolation='bicubic')]),
             dict(type='RandomHorizontalFlip'),
             dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4)]),
    dict(type='PackClsInputs'),
]


def build_image_folder(**kwargs) -> ImageFolderDataset:
    """The dataset with :data:`PIPELINE` and ``kwargs`` (``data_root``, ...)."""
    return DATASETS.build(dict(type='ImageFolderDataset', pipeline=PIPELINE, **kwargs))
