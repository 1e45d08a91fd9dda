"""Models and images for the exported-model parity tests: two real images, the
project's detectors with batch norms calibrated on them, and the float32
bound of a detector's scores."""
import os.path as osp

import numpy as np
import pytest
import torch
from torch.nn.modules.batchnorm import _BatchNorm

from mnext_det.deploy import build_model, preprocess, read_image

from ..conftest import ROOT
from ..tolerances import TEST_SEED, float32_bound

DET_CONFIGS = {
    'mobilenext': 'configs/ssdlite/ssdlite_mobilenext-100-scratch_8xb24-600e_coco.py',
    'mobilenetv2': 'configs/ssdlite/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py',
}


def real_images():
    """A photograph shipped with matplotlib and a drawn scene (RGB uint8)."""
    import matplotlib
    from PIL import Image, ImageDraw
    photo = read_image(osp.join(osp.dirname(matplotlib.__file__), 'mpl-data', 'sample_data',
                                'grace_hopper.jpg'))
    scene = Image.new('RGB', (480, 360), (90, 140, 200))
    pen = ImageDraw.Draw(scene)
    pen.rectangle([40, 200, 200, 330], fill=(200, 60, 40))
    pen.ellipse([260, 60, 420, 220], fill=(240, 220, 60))
    pen.polygon([(60, 40), (160, 160), (20, 160)], fill=(30, 160, 70))
    return [photo, np.asarray(scene)]


def calibrate(model: torch.nn.Module, forward, images, size: int, seed: int = TEST_SEED):
    """Random BN affine parameters, BN statistics measured on ``images`` and
    their flips (so activations neither vanish nor saturate), eval mode."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, _BatchNorm):
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.momentum = None
            m.reset_running_stats()
    meta = dict(input_size=[size, size], mean=[123.675, 116.28, 103.53],
                std=[58.395, 57.12, 57.375], color='RGB', resize='stretch')
    x = np.concatenate([preprocess(img, meta)[0] for img in images])
    x = torch.from_numpy(np.concatenate([x, x[..., ::-1].copy()]))
    model.train()
    with torch.no_grad():
        forward(x)
    model.eval()
    return model


def build_detector(key: str, images):
    """Detector of the project config, BN calibrated on ``images`` and its
    class-score convs scaled x3 (thousands of boxes above the threshold)."""
    pytest.importorskip('mmdet')
    model, cfg = build_model(osp.join(ROOT, DET_CONFIGS[key]))
    calibrate(model, lambda x: model.bbox_head(model.extract_feat(x)), images, 320)
    classes = model.bbox_head.cls_out_channels
    for m in model.bbox_head.cls_convs.modules():
        if isinstance(m, torch.nn.Conv2d) and m.out_channels % classes == 0:
            m.weight.data *= 3
    return model, cfg


def score_bound(model, x: np.ndarray, depth: int, fan_in: int) -> float:
    """Bound for the detector's softmax scores on ``x``: half the float32 bound
    of its class logits (sum_j |dp_i/dz_j| = 2 p_i (1 - p_i) <= 1/2)."""
    with torch.no_grad():
        cls_scores = model.bbox_head(model.extract_feat(torch.from_numpy(x)))[0]
    logits = torch.cat([c.flatten() for c in cls_scores]).numpy()
    return 0.5 * float32_bound(logits, depth, fan_in)
