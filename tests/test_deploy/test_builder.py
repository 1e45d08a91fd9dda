"""build_model refuses a checkpoint that does not fit the config's model."""
import os.path as osp

import pytest
import torch

from mnext_det import create_model

from ..conftest import ROOT

DET_CONFIG = osp.join(ROOT, 'configs', 'ssdlite',
                      'ssdlite_mobilenext-100-scratch_8xb24-600e_coco.py')


def test_export_refuses_classifier_checkpoint_for_detector_config(tmp_path):
    pytest.importorskip('mmdet')
    from mnext_det.deploy import build_model
    ckpt = str(tmp_path / 'cls.pth')
    torch.save({'state_dict': create_model('mobilenext_100').state_dict()}, ckpt)
    with pytest.raises(ValueError, match='does not match config') as err:
        build_model(DET_CONFIG, ckpt)
    assert ckpt in str(err.value) and 'missing keys' in str(err.value)
