"""engine.launch: the --amp override that tools/train.py and the detector benchmark share."""
from mmengine.config import Config

from mnext_det.engine.launch import with_amp

from ..conftest import ROOT


def test_with_amp_keeps_the_configs_optimizer_and_constructor():
    cfg = Config.fromfile(f'{ROOT}/configs/demo/ssdlite_mobilenext-050_1xb8-10e_shapes-160.py')
    amp = with_amp(cfg.optim_wrapper)
    assert amp['type'] == 'AmpOptimWrapper' and amp['loss_scale'] == 'dynamic'
    assert {k: v for k, v in amp.items() if k not in ('type', 'loss_scale')} == {
        k: v for k, v in cfg.optim_wrapper.items() if k != 'type'}
    assert cfg.optim_wrapper.type == 'OptimWrapper'  # the config itself is left alone
