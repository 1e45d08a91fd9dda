"""Datasets and transforms; importable with torch, torchvision and mmengine
alone (no mmcv, no mmdet)."""
from .cached_transforms import CachedTransforms
from .dataset_wrappers import BadSampleError, ValidatedDataset
from .folder_walk import list_images, output_stems, refuse_unreadable, skipped_note
from .image_folder import IMG_EXTENSIONS, ImageFolderDataset, find_classes, scan_class_folders
from .transforms import (DecodeImage, ImageDecodeError, PackClsInputs, TorchvisionTransforms,
                         build_torchvision_transform)

__all__ = ['IMG_EXTENSIONS', 'ImageFolderDataset', 'find_classes', 'scan_class_folders',
           'DecodeImage', 'ImageDecodeError', 'PackClsInputs', 'TorchvisionTransforms',
           'build_torchvision_transform', 'ValidatedDataset', 'BadSampleError', 'CachedTransforms',
           'list_images', 'skipped_note', 'output_stems', 'refuse_unreadable']
