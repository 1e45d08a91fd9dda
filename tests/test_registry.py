"""Registration: the backbone builds from mmdet configs, and the
classification path imports without mmcv or mmdet."""
import subprocess
import sys
import textwrap

import pytest

from .import_blocker import BLOCK_MM


def _run(code: str) -> str:
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_classification_path_without_mmcv_and_mmdet():
    out = _run(BLOCK_MM + textwrap.dedent('''
        import torch
        import mnext_det
        from mnext_det import create_model
        from mmengine.registry import MODELS
        m = create_model('mobilenext_050', num_classes=3).eval()
        print(tuple(m(torch.randn(1, 3, 64, 64)).shape))
        b = MODELS.build(dict(type='MobileNeXt', widen_factor=0.5))
        print(type(b).__name__)
        assert not any(k.split('.')[0] in ('mmcv', 'mmdet') for k in sys.modules)
        print('clean')
    '''))
    assert out.split() == ['(1,', '3)', 'MobileNeXt', 'clean']


def test_block_really_blocks():
    proc = subprocess.run([sys.executable, '-c', BLOCK_MM + 'import mmdet'],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and 'blocked' in proc.stderr


@pytest.mark.parametrize('imports', [['mnext_det'], ['mnext_det.models.backbones']])
def test_mmdet_config_builds_backbone_after_custom_imports(tmp_path, imports):
    pytest.importorskip('mmdet')
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(textwrap.dedent(f'''
        default_scope = 'mmdet'
        custom_imports = dict(imports={imports!r}, allow_failed_imports=False)
        backbone = dict(type='MobileNeXt', widen_factor=0.75, tap_indices=(13, 20),
                        out_indices=(20, ), norm_cfg=dict(type='BN', eps=1e-3, momentum=0.03))
    '''))
    out = _run(textwrap.dedent(f'''
        import torch
        from mmengine.config import Config
        from mmengine.utils import import_modules_from_strings
        from mmdet.registry import MODELS
        from mmdet.utils import register_all_modules
        register_all_modules()
        cfg = Config.fromfile({str(cfg)!r})
        import_modules_from_strings(**cfg.custom_imports)
        b = MODELS.build(cfg.backbone)
        outs = b(torch.randn(1, 3, 320, 320))
        print(type(b).__module__, [tuple(o.shape[1:]) for o in outs])
    '''))
    assert out.strip() == ("mnext_det.models.backbones.mobilenext "
                           "[(432, 20, 20), (1280, 10, 10), (1280, 10, 10)]")
