"""Deployment: BN folding, compiled eager inference, ONNX export with
preprocessing metadata, an ONNX Runtime runner and numpy SSD
post-processing, optional TFLite.

Importing this package needs torch and numpy only; onnx, onnxruntime, mmdet
and litert-torch are imported by the functions that use them.
"""
from .builder import build_model, prepare_export, preprocess_metadata
from .compiled import compile_for_inference
from .detector import SSDExportWrapper
from .fuse import fuse_conv_bn
from .onnx_export import METADATA_KEY, export_onnx, read_metadata
from .postprocess import batched_nms, box_iou, nms, ssd_postprocess
from .onnxruntime_model import OnnxRuntimeModel, preprocess, read_image

__all__ = [
    'fuse_conv_bn', 'compile_for_inference', 'export_onnx', 'prepare_export', 'read_metadata',
    'METADATA_KEY', 'build_model', 'preprocess_metadata', 'SSDExportWrapper', 'nms',
    'batched_nms', 'box_iou', 'ssd_postprocess', 'OnnxRuntimeModel', 'preprocess', 'read_image'
]
