"""Hand-off: a checkpoint written by a pretraining run initialises the SSDLite
detectors' backbones as it is (``init_cfg=dict(type='Pretrained',
prefix='backbone.')``), for MobileNeXt and for mmdet's MobileNetV2, and
after ``tools/model_converters/extract_backbone.py`` without a prefix."""
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmengine.utils import import_modules_from_strings

from mnext_det.checkpoint import extract_state_dict, load_checkpoint_file

from ..conftest import ROOT, make_image_folder, write_config

PAIRS = {
    'mobilenext': ('configs/imagenet/mobilenext-100_8xb64-210e_in1k.py',
                   'configs/ssdlite/ssdlite_mobilenext-100-scratch_8xb24-600e_coco.py'),
    'mobilenetv2': ('configs/imagenet/mobilenetv2-100_8xb64-210e_in1k.py',
                    'configs/ssdlite/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py'),
}


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    return make_image_folder(str(tmp_path_factory.mktemp('handoff_data')), n_train=4,
                             n_val=1, size=36)


def _pretrain_one_epoch(arch: str, data_root: str, tmp) -> str:
    """Run one short pretraining epoch with the real config; return its checkpoint."""
    config = write_config(tmp / f'{arch}_cls.py', data_root, size=32, batch=6, lr=0.01,
                          max_epochs=1, cosine_end=2, base=osp.join(ROOT, PAIRS[arch][0]))
    cfg = Config.fromfile(config)
    cfg.work_dir = str(tmp / f'{arch}_work')
    cfg.train_cfg.val_interval = 10
    Runner.from_cfg(cfg).train()
    return osp.join(cfg.work_dir, 'epoch_1.pth')


def _detector(arch: str, init_cfg: dict):
    pytest.importorskip('mmdet')
    from mmdet.registry import MODELS
    cfg = Config.fromfile(osp.join(ROOT, PAIRS[arch][1]))
    import_modules_from_strings(**cfg.custom_imports)
    init_default_scope(cfg.default_scope)
    cfg.model.backbone.init_cfg = init_cfg
    return MODELS.build(cfg.model)


def _assert_backbone_equals(detector, expected: dict) -> None:
    own = detector.backbone.state_dict()
    assert set(own) == set(expected), sorted(set(own) ^ set(expected))[:10]
    for k, v in expected.items():
        torch.testing.assert_close(own[k], v, rtol=0, atol=0, msg=k)


@pytest.mark.parametrize('arch', ['mobilenext', 'mobilenetv2'])
def test_pretraining_checkpoint_initialises_detector_backbone(arch, data_root, tmp_path):
    if arch == 'mobilenetv2':
        pytest.importorskip('mmdet')
    ckpt = _pretrain_one_epoch(arch, data_root, tmp_path)
    state = extract_state_dict(load_checkpoint_file(ckpt))
    expected = {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}
    detector = _detector(arch, dict(type='Pretrained', checkpoint=ckpt, prefix='backbone.'))
    weight = next(k for k in expected if k.endswith('weight') and expected[k].dim() == 4)
    assert not torch.equal(detector.backbone.state_dict()[weight], expected[weight])
    detector.init_weights()
    _assert_backbone_equals(detector, expected)

    if arch == 'mobilenext':  # the backbone-only file of tools/model_converters/extract_backbone.py
        out = str(tmp_path / 'backbone.pth')
        proc = subprocess.run([sys.executable, 'tools/model_converters/extract_backbone.py', ckpt,
                               out],
                              capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert f'{len(expected)} of {len(state)} tensors' in proc.stdout
        detector = _detector(arch, dict(type='Pretrained', checkpoint=out))
        detector.init_weights()
        _assert_backbone_equals(detector, expected)
