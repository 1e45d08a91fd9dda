"""Every training config drops an epoch's last incomplete batch: a batch of one
image stops training in batch norm on 1x1 maps (the SSDLite neck's last levels)."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from ..conftest import DEMO_DET, ROOT

CONFIGS = sorted(f for f in glob.glob(osp.join(ROOT, 'configs', '*', '*.py'))
                 if '_base_' not in f)


@pytest.mark.parametrize('config', CONFIGS, ids=lambda f: osp.relpath(f, ROOT))
def test_training_configs_drop_the_last_incomplete_batch(config):
    assert Config.fromfile(config).train_dataloader.get('drop_last') is True


def test_a_batch_of_one_stops_the_detector_in_training():
    """Why: the reason the configs above need drop_last."""
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    from mmengine.registry import init_default_scope
    register_all_modules(init_default_scope=False)
    init_default_scope('mmdet')
    model = MODELS.build(Config.fromfile(DEMO_DET).model).train()
    with pytest.raises(ValueError, match='Expected more than 1 value per channel'):
        model.neck(model.backbone(torch.randn(1, 3, 160, 160)))
    model.neck(model.backbone(torch.randn(2, 3, 160, 160)))
