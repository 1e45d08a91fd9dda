"""identity_meta: a checkpoint records its MobileNeXt's identity tensor multiplier,
and every loader refuses it for a model with another one (same tensors, other network)."""
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MMLogger

from mnext_det import create_model
from mnext_det.checkpoint import check_checkpoint_fits
from mnext_det.engine import PretrainedCheckHook
from mnext_det.engine.checkpoint_hook import SafeCheckpointHook
from mnext_det.identity_meta import (IDENTITY_META_KEY, IdentityMultiplierMismatchError,
                                     check_identity_multiplier, model_identity_multiplier,
                                     recorded_identity_multiplier)
from mnext_det.models.backbones.mobilenext import MobileNeXt

from .conftest import ROOT


def _saved(tmp_path, multiplier, record=True):
    """A mobilenext_035 classifier checkpoint, saved as SafeCheckpointHook saves it."""
    model = create_model('mobilenext_035', num_classes=4, identity_tensor_multiplier=multiplier)
    checkpoint = dict(meta=dict(epoch=1), state_dict=model.state_dict())
    if record:
        runner = SimpleNamespace(model=model, world_size=1)
        SafeCheckpointHook(interval=1).before_save_checkpoint(runner, checkpoint)
    path = str(tmp_path / f'id_{multiplier}_{record}.pth')
    torch.save(checkpoint, path)
    return path, checkpoint


def test_the_saved_checkpoint_records_the_multiplier(tmp_path):
    _, checkpoint = _saved(tmp_path, 0.5)
    assert checkpoint['meta'][IDENTITY_META_KEY] == 0.5
    assert checkpoint['meta']['world_size'] == 1
    plain = dict(meta={})
    SafeCheckpointHook(interval=1).before_save_checkpoint(
        SimpleNamespace(model=torch.nn.Conv2d(1, 1, 1), world_size=1), plain)
    assert IDENTITY_META_KEY not in plain['meta']  # no MobileNeXt, nothing to record


def test_model_and_recorded_multipliers():
    assert model_identity_multiplier(create_model('mobilenext_035')) == 1.0
    quarter = MobileNeXt(0.35, identity_tensor_multiplier=0.25)
    assert model_identity_multiplier(torch.nn.Sequential(quarter)) == 0.25
    assert model_identity_multiplier(torch.nn.Linear(2, 2)) is None
    both = torch.nn.Sequential(MobileNeXt(0.35), MobileNeXt(0.35, identity_tensor_multiplier=0.5))
    assert model_identity_multiplier(both) is None  # one record cannot describe two
    check_identity_multiplier(dict(meta={IDENTITY_META_KEY: 0.25}), both, 'f.pth')
    assert recorded_identity_multiplier(dict(meta={IDENTITY_META_KEY: 0.5})) == 0.5
    assert recorded_identity_multiplier(dict(meta={})) is None
    assert recorded_identity_multiplier(dict(state_dict={})) is None
    assert recorded_identity_multiplier({'features.0.0.weight': torch.zeros(1)}) is None
    check_identity_multiplier(dict(meta={IDENTITY_META_KEY: 1 / 3}),
                              MobileNeXt(0.35, identity_tensor_multiplier=1 / 3), 'f.pth')


def test_create_model_refuses_another_multiplier_and_loads_the_same(tmp_path):
    path, checkpoint = _saved(tmp_path, 0.5)
    with pytest.raises(IdentityMultiplierMismatchError,
                       match=rf"^{path} was saved from a MobileNeXt with "
                             r"identity_tensor_multiplier 0\.5, model 'mobilenext_035' has 1: the "
                             r"weights fit \(same tensors\) but compute another network; build "
                             r"it with identity_tensor_multiplier=0\.5$"):
        create_model('mobilenext_035', num_classes=4, checkpoint=path)
    model = create_model('mobilenext_035', num_classes=4, checkpoint=path,
                         identity_tensor_multiplier=0.5)
    assert torch.equal(model.state_dict()['classifier.1.weight'],
                       checkpoint['state_dict']['classifier.1.weight'])
    unrecorded, _ = _saved(tmp_path, 0.5, record=False)  # e.g. the authors' files: no record
    create_model('mobilenext_035', num_classes=4, checkpoint=unrecorded)


def test_test_tool_check_refuses_another_multiplier(tmp_path):
    path, _ = _saved(tmp_path, 0.25)
    with pytest.raises(IdentityMultiplierMismatchError, match="the config's model has 1"):
        check_checkpoint_fits(create_model('mobilenext_035', num_classes=4), path)
    check_checkpoint_fits(create_model('mobilenext_035', num_classes=4,
                                       identity_tensor_multiplier=0.25), path)


def test_pretrained_init_refuses_another_multiplier(tmp_path):
    path, _ = _saved(tmp_path, 0.5)
    init = dict(type='Pretrained', checkpoint=path, prefix='backbone.')
    runner = SimpleNamespace(_resume=False, _load_from=None,
                             logger=MMLogger.get_current_instance())
    backbone = MobileNeXt(widen_factor=0.35, init_cfg=init)
    backbone.init_weights()
    runner.model = torch.nn.Sequential(backbone)
    with pytest.raises(IdentityMultiplierMismatchError, match=r'model\.0 has 1: the weights fit'):
        PretrainedCheckHook().before_train(runner)
    backbone = MobileNeXt(widen_factor=0.35, identity_tensor_multiplier=0.5, init_cfg=init)
    backbone.init_weights()
    runner.model = torch.nn.Sequential(backbone)
    PretrainedCheckHook().before_train(runner)
    runner.model, runner._load_from = torch.nn.Sequential(MobileNeXt(widen_factor=0.35)), path
    with pytest.raises(IdentityMultiplierMismatchError, match=r'the model has 1'):  # load_from
        PretrainedCheckHook().before_train(runner)


def test_extract_backbone_keeps_the_record(tmp_path):
    path, _ = _saved(tmp_path, 0.5)
    out = str(tmp_path / 'backbone.pth')
    proc = subprocess.run([sys.executable, 'tools/model_converters/extract_backbone.py', path, out],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert torch.load(out)['meta'][IDENTITY_META_KEY] == 0.5
    backbone = MobileNeXt(widen_factor=0.35, init_cfg=dict(type='Pretrained', checkpoint=out))
    backbone.init_weights()
    runner = SimpleNamespace(model=backbone, _resume=False, _load_from=None,
                             logger=MMLogger.get_current_instance())
    with pytest.raises(IdentityMultiplierMismatchError, match=r'the model has 1'):
        PretrainedCheckHook().before_train(runner)
