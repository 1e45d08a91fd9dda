"""tools/model_converters/convert_official_ckpt.py on an official checkpoint."""
import os
import subprocess
import sys

import torch

from mnext_det import create_model
from mnext_det.checkpoint import load_checkpoint_file

from ..conftest import ROOT
from ..test_models.test_factory import _official_timm_checkpoint


def test_convert_official_ckpt_tool(tmp_path):
    src = str(tmp_path / 'official.pth.tar')
    dst = str(tmp_path / 'converted.pth')
    official = _official_timm_checkpoint(src)
    tool = os.path.join(ROOT, 'tools', 'model_converters', 'convert_official_ckpt.py')
    subprocess.run([sys.executable, tool, src, dst], check=True, capture_output=True, text=True)
    ckpt = load_checkpoint_file(dst)
    assert set(ckpt) == {'state_dict', 'meta'}
    assert ckpt['meta']['arch'] == 'mobilenext_100' and len(ckpt['meta']['source_sha256']) == 64
    model = create_model('mobilenext_100', checkpoint=dst).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), official(x))
