"""The pretraining configs carry the authors' recipe: every width builds with
its parameter count, SGD Nesterov without decay on BN and biases, warm-up
from 1e-4 -> 0.1 -> cosine to 1e-5 at epoch 200 -> 10 epochs at 1e-5, and
EMA (decay 0.9998) that ends up in the saved state_dict."""
import glob
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope
from mmengine.runner import Runner
from mmengine.utils import import_modules_from_strings

from mnext_det.checkpoint import load_checkpoint_file

from ..conftest import ROOT, make_image_folder, write_config

IN1K = sorted(glob.glob(osp.join(ROOT, 'configs/imagenet/*_in1k.py')))
# parameters at 1000 classes (reference doc section 1; torchvision's MobileNetV2)
PARAMS = {'mobilenext-035': 1913976, 'mobilenext-050': 2152304, 'mobilenext-075': 2766168,
          'mobilenext-100': 3535416, 'mobilenext-140': 6126168, 'mobilenetv2-100': 3504872}


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    return make_image_folder(str(tmp_path_factory.mktemp('cfg_data')), n_train=6, n_val=1,
                             size=36)


def _runner(config: str, data_root: str, work_dir) -> Runner:
    cfg = Config.fromfile(config)
    cfg.work_dir = str(work_dir)
    cfg.merge_from_dict({'model.num_classes': 3, 'train_dataloader.batch_size': 2,
                         'train_dataloader.num_workers': 0,
                         'train_dataloader.persistent_workers': False,
                         'train_dataloader.dataset.data_root': data_root,
                         'train_dataloader.dataset.num_classes': 3})
    return Runner.from_cfg(cfg)


@pytest.mark.parametrize('config', IN1K, ids=[osp.basename(c) for c in IN1K])
def test_in1k_config_builds_with_expected_params(config):
    if 'mobilenetv2' in config:
        pytest.importorskip('mmdet')
    cfg = Config.fromfile(config)
    assert cfg.auto_scale_lr.base_batch_size == 8 * cfg.train_dataloader.batch_size == 512
    assert cfg.model.drop_rate == 0.2 and cfg.model.label_smoothing == 0.1
    import_modules_from_strings(**cfg.custom_imports)
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model)
    name = osp.basename(config).split('_')[0]
    assert sum(p.numel() for p in model.parameters()) == PARAMS[name]


@pytest.mark.filterwarnings('ignore:Detected call of `scheduler.step')
def test_optimizer_and_lr_schedule(data_root, tmp_path):
    runner = _runner(osp.join(ROOT, 'configs/imagenet/mobilenext-100_8xb64-210e_in1k.py'),
                     data_root, tmp_path)
    optim = runner.build_optim_wrapper(runner.optim_wrapper)
    runner.optim_wrapper = optim
    sgd = optim.optimizer
    assert isinstance(sgd, torch.optim.SGD) and sgd.defaults['nesterov']
    assert sgd.defaults['momentum'] == 0.9
    decay = {id(p): g['weight_decay'] for g in sgd.param_groups for p in g['params']}
    model = runner.model
    for name, p in model.named_parameters():
        expected = 1e-4 if p.dim() > 1 else 0.0  # conv/linear weights vs BN and biases
        assert decay[id(p)] == expected, name
    schedulers = runner.build_param_scheduler(runner.cfg.param_scheduler)
    per_epoch = len(runner.train_dataloader)
    assert per_epoch == 9
    lrs = []
    for _ in range(210 * per_epoch):
        lrs.append(sgd.param_groups[0]['lr'])
        for s in schedulers:
            s.step()
    assert lrs[0] == pytest.approx(1e-4)
    peak = 3 * per_epoch
    assert max(lrs) == pytest.approx(0.1) and lrs[peak] == pytest.approx(0.1)
    assert all(a < b for a, b in zip(lrs[:peak - 1], lrs[1:peak]))
    assert all(a >= b for a, b in zip(lrs[peak:], lrs[peak + 1:]))
    for epoch in (50, 100, 150):  # cosine between epochs 3 and 200
        t = (epoch - 3) / 197
        assert lrs[epoch * per_epoch] == pytest.approx(
            1e-5 + (0.1 - 1e-5) * (1 + math.cos(math.pi * t)) / 2, rel=1e-6)
    cooldown = lrs[200 * per_epoch:]  # 10 epochs at the last cosine value, ~1e-5
    assert len(set(cooldown)) == 1 and cooldown[0] == pytest.approx(1e-5, rel=0.01)


def test_ema_weights_are_validated_and_saved(data_root, tmp_path):
    config = write_config(tmp_path / 'ema.py', data_root, size=32, batch=6, lr=0.01,
                          max_epochs=1, cosine_end=2,
                          base=osp.join(ROOT, 'configs/imagenet',
                                        'mobilenext-100_8xb64-210e-ema_in1k.py'))
    cfg = Config.fromfile(config)
    assert cfg.custom_hooks[1].momentum == pytest.approx(1 - 0.9998)
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    runner.train()
    ckpt = load_checkpoint_file(osp.join(cfg.work_dir, 'epoch_1.pth'))
    raw = runner.model.state_dict()
    ema = ckpt['state_dict']
    key = 'backbone.features.0.0.weight'
    # state_dict holds the EMA weights, ema_state_dict the raw ones (for resuming)
    assert not torch.equal(ema[key], raw[key])
    torch.testing.assert_close(ckpt['ema_state_dict']['module.' + key], raw[key])
