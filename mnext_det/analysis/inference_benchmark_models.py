"""The models and backends ``tools/analysis_tools/benchmark.py`` times, and a
batch-1 inference callable for each (model, backend) pair."""
import copy
import os.path as osp
from importlib.util import find_spec
from typing import Callable, Dict, List, Tuple

import torch
import torch.nn as nn

from ..deploy import (OnnxRuntimeModel, SSDExportWrapper, build_model, compile_for_inference,
                      export_onnx, fuse_conv_bn)
from ..models import ImageClassifier, create_model

__all__ = ['DET_CONFIGS', 'CLS_BASELINE', 'DET_BASELINE', 'DET_MNEXT', 'SAME_TAP_BASELINE',
           'IDENTITY_PREFIX', 'FULL_SHORTCUT', 'model_builders', 'backends', 'make_runner']

# the checkout (configs/ lies beside the package)
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CLS_BASELINE, DET_BASELINE, DET_MNEXT = ('torchvision MobileNetV2', 'SSDLite-MobileNetV2',
                                         'SSDLite-MobileNeXt-1.0')
# MobileNetV2 tapped where Sandler et al. and the MobileNeXt authors tap: the same head input
SAME_TAP_BASELINE = 'SSDLite-MobileNetV2, expansion tap'
DET_CONFIGS = {
    DET_MNEXT: 'configs/ssdlite/ssdlite_mobilenext-100-scratch_8xb24-600e_coco.py',
    DET_BASELINE: 'configs/ssdlite/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py',
    SAME_TAP_BASELINE: 'configs/ssdlite/ssdlite_mobilenetv2-exptap-scratch_8xb24-600e_coco.py',
}
# MobileNeXt-1.0 with identity tensor multiplier 1 (the full shortcut) and 1/N
IDENTITY_PREFIX = 'MobileNeXt-1.0 (identity '
FULL_SHORTCUT = IDENTITY_PREFIX + '1)'


class _TorchvisionSSDLite(nn.Module):
    """torchvision SSDLite backbone + head raw outputs (no decoding/NMS)."""

    def __init__(self) -> None:
        super().__init__()
        from torchvision.models.detection import ssdlite320_mobilenet_v3_large
        model = ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None)
        self.backbone, self.head = model.backbone, model.head

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        out = self.head(list(self.backbone(x).values()))
        return out['bbox_regression'], out['cls_logits']


def _mmdet_mobilenetv2() -> nn.Module:
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    return ImageClassifier(backbone=dict(type='mmdet.MobileNetV2', out_indices=(7, )),
                           in_channels=1280)


def model_builders(quick: bool) -> Dict[str, Tuple[Callable[[], nn.Module], int]]:
    """name -> (builder of an eval-mode module, input size)."""
    import torchvision

    def mnext(div: int) -> Callable[[], nn.Module]:
        return lambda: create_model('mobilenext_100', identity_tensor_multiplier=1 / div)

    def ssd(cfg: str) -> Callable[[], nn.Module]:
        return lambda: SSDExportWrapper(build_model(osp.join(ROOT, cfg))[0].eval(), (320, 320))

    models = {FULL_SHORTCUT: (mnext(1), 224)}
    for div in ((2, ) if quick else (2, 3, 4)):
        models[f'{IDENTITY_PREFIX}1/{div})'] = (mnext(div), 224)
    models[CLS_BASELINE] = (lambda: torchvision.models.mobilenet_v2(), 224)
    if quick:
        return models
    models['mmdet MobileNetV2'] = (_mmdet_mobilenetv2, 224)
    for name, cfg in DET_CONFIGS.items():
        models[name] = (ssd(cfg), 320)
    models['torchvision SSDLite320-MobileNetV3-L'] = (_TorchvisionSSDLite, 320)
    return models


def backends(quick: bool) -> List[str]:
    """Backends to time: eager PyTorch (as built, BN folded, folded and
    channels-last, and that compiled: ``compile_for_inference``), ONNX Runtime
    and, when installed and not ``quick``, TFLite."""
    names = ['eager+fold+cl', 'onnxruntime'] if quick else [
        'eager', 'eager+fold', 'eager+fold+cl', 'compiled', 'onnxruntime']
    if not quick and all(find_spec(m) for m in ('ai_edge_litert', 'litert_torch')):
        names.append('tflite')
    return names


def make_runner(model: nn.Module, size: int, backend: str, threads: int,
                workdir: str, tag: str) -> Callable[[], object]:
    """A zero-argument callable running one batch-1 inference."""
    x = torch.rand(1, 3, size, size)
    if backend.startswith('eager'):
        model = copy.deepcopy(model).eval()
        if 'fold' in backend:
            fuse_conv_bn(model)
        if backend.endswith('+cl'):
            model = model.to(memory_format=torch.channels_last)
            x = x.contiguous(memory_format=torch.channels_last)

        def run() -> object:
            with torch.inference_mode():
                return model(x)
        return run
    if backend == 'compiled':
        compiled = compile_for_inference(model)
        x = x.contiguous(memory_format=torch.channels_last)  # as eager+fold+cl gets it
        compiled(x)  # compile outside the timed runs
        return lambda: compiled(x)
    if backend == 'onnxruntime':
        file = export_onnx(model, osp.join(workdir, f'{tag}.onnx'), (1, 3, size, size),
                           output_names=('out0', 'out1') if size == 320 else ('out0', ))
        session = OnnxRuntimeModel(file, num_threads=threads)
        xn = x.numpy()
        return lambda: session(xn)
    if backend == 'tflite':
        from ..deploy.tflite import TFLiteModel, export_tflite
        file = export_tflite(model, osp.join(workdir, f'{tag}.tflite'), (1, 3, size, size))
        interp = TFLiteModel(file, num_threads=threads)
        xn = x.numpy()
        return lambda: interp(xn)
    raise ValueError(f'unknown backend {backend!r}')
