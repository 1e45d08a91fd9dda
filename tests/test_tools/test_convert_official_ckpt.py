"""tools/model_converters/convert_official_ckpt.py on an official checkpoint."""
import os
import subprocess
import sys

import torch

from mnext_det import create_model
from mnext_det.checkpoint import load_checkpoint_file

from ..conftest import ROOT
from ..official_mnext import official_timm_checkpoint
from ..tool_main import run_main

TOOL = os.path.join(ROOT, 'tools', 'model_converters', 'convert_official_ckpt.py')


def test_convert_official_ckpt_tool(tmp_path):
    src = str(tmp_path / 'official.pth.tar')
    dst = str(tmp_path / 'converted.pth')
    official = official_timm_checkpoint(src)
    subprocess.run([sys.executable, TOOL, src, dst], check=True, capture_output=True, text=True)
    ckpt = load_checkpoint_file(dst)
    assert set(ckpt) == {'state_dict', 'meta'}
    assert ckpt['meta']['arch'] == 'mobilenext_100' and len(ckpt['meta']['source_sha256']) == 64
    model = create_model('mobilenext_100', checkpoint=dst).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), official(x))


def test_convert_refuses_a_checkpoint_without_classifier_and_use_ema_without_ema(tmp_path):
    src = str(tmp_path / 'backbone.pth')
    net = create_model('mobilenext_050')
    torch.save(net.backbone.state_dict(prefix='backbone.'), src)  # a detector's backbone
    run = run_main(TOOL, src, tmp_path / 'out.pth', '--arch', 'mobilenext_050')
    assert run.returncode == 2 and not (tmp_path / 'out.pth').exists()
    assert run.stderr.startswith(f'error: {src}: no classifier.1.weight, so not a MobileNeXt '
                                 'classifier checkpoint (first keys: backbone.features.0.0.weight')
    run = run_main(TOOL, src, tmp_path / 'out.pth', '--use-ema')
    assert run.stderr.startswith(f'error: {src}: use_ema=True but there is no state_dict_ema')
    mmengine_ema = str(tmp_path / 'ema.pth')  # EMAHook swaps the EMA weights into state_dict
    torch.save(dict(state_dict=net.state_dict(), ema_state_dict=net.state_dict(), meta={}),
               mmengine_ema)
    run = run_main(TOOL, mmengine_ema, tmp_path / 'out.pth', '--use-ema')
    assert run.stderr.startswith(f'error: {mmengine_ema}: an mmengine EMAHook checkpoint, whose '
                                 'state_dict already holds the EMA weights')


def test_convert_names_its_flags_for_another_width_or_identity_multiplier(tmp_path):
    src = str(tmp_path / 'cls050.pth')
    torch.save(create_model('mobilenext_050').state_dict(), src)
    run = run_main(TOOL, src, tmp_path / 'out.pth')  # --arch mobilenext_100 by default
    assert run.returncode == 2 and not (tmp_path / 'out.pth').exists()
    assert "is it another width? --arch mobilenext_100 now, one of mobilenext_035" in run.stderr
    half = str(tmp_path / 'half.pth')
    torch.save(dict(state_dict=create_model('mobilenext_050').state_dict(),
                    meta=dict(identity_tensor_multiplier=0.5)), half)
    run = run_main(TOOL, half, tmp_path / 'out.pth', '--arch', 'mobilenext_050')
    assert run.returncode == 2
    assert 'identity_tensor_multiplier 0.5' in run.stderr
    assert run.stderr.rstrip().endswith('(--identity-tensor-multiplier)')
