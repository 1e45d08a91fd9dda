"""engine.pretrained_check: an init_cfg Pretrained that loads nothing or part stops the run."""
import os.path as osp
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MMLogger
from mmengine.model.weight_init import PretrainedInit

from mnext_det.engine import PretrainedCheckHook
from mnext_det.engine.pretrained_check import has_pretrained_init, loaded_tensors
from mnext_det.models.backbones.mobilenext import MobileNeXt

from ..conftest import ROOT
from ..fault_injection import train_env, write_classification_run
from ..tool_main import run_main


def _checkpoint(tmp_path, widen_factor=0.35):
    """A classifier-style checkpoint: the backbone's tensors under ``backbone.``."""
    torch.manual_seed(1)
    state = {f'backbone.{k}': v for k, v in MobileNeXt(widen_factor=widen_factor).state_dict()
             .items()}
    path = str(tmp_path / f'cls_{widen_factor}.pth')
    torch.save(dict(state_dict=state, meta=dict(epoch=1)), path)
    return path


def _check(backbone):
    runner = SimpleNamespace(model=torch.nn.Sequential(backbone), _has_loaded=False,
                             logger=MMLogger.get_current_instance())
    PretrainedCheckHook().before_train(runner)


def test_has_pretrained_init_finds_nested_entries():
    assert has_pretrained_init(dict(backbone=dict(init_cfg=dict(type='Pretrained'))))
    assert has_pretrained_init(dict(a=[dict(init_cfg=[dict(type='Kaiming'),
                                                      dict(type='mmengine.Pretrained')])]))
    assert not has_pretrained_init(dict(backbone=dict(init_cfg=[dict(type='TruncNormal')])))
    assert not has_pretrained_init(None)


@pytest.mark.parametrize('prefix, widen, loads', [
    ('backbone.', 0.35, True),   # as the detector configs load a pretraining checkpoint
    (None, 0.35, False),         # no prefix: no key matches, mmengine only warns
    ('backbone.', 0.5, False),   # another width: every shape differs
])
def test_hook_passes_a_full_load_and_names_a_silent_failure(tmp_path, prefix, widen, loads):
    ckpt = _checkpoint(tmp_path, widen)
    init = dict(type='Pretrained', checkpoint=ckpt, **({'prefix': prefix} if prefix else {}))
    torch.manual_seed(2)
    backbone = MobileNeXt(widen_factor=0.35, init_cfg=init)
    backbone.init_weights()  # mmengine's PretrainedInit, non-strict
    if loads:
        _check(backbone)
        loaded, missing = loaded_tensors(backbone, torch.load(ckpt)['state_dict'], prefix)
        assert loaded and not missing
        return
    # another width still matches the few tensors whose shape does not scale with it
    count = '0' if prefix is None else r'\d+'
    with pytest.raises(ValueError, match=rf'cls_{widen}\.pth: init_cfg Pretrained \(prefix '
                       rf'{prefix!r}\) loaded {count} of \d+ tensors of model\.0; not loaded: '
                       r'.*check the prefix'):
        _check(backbone)


def test_hook_counts_a_partial_load(tmp_path):
    ckpt = _checkpoint(tmp_path)
    backbone = MobileNeXt(widen_factor=0.35)
    PretrainedInit(checkpoint=ckpt, prefix='backbone.')(backbone)
    state = torch.load(ckpt)['state_dict']
    total = len(loaded_tensors(backbone, state, 'backbone.')[0])
    with torch.no_grad():
        backbone.features[0][0].weight.add_(1)  # one tensor no longer holds the checkpoint's values
    loaded, missing = loaded_tensors(backbone, state, 'backbone.')
    assert (len(loaded), missing) == (total - 1, ['features.0.0.weight'])
    backbone.init_cfg = dict(type='Pretrained', checkpoint=ckpt, prefix='backbone.')
    with pytest.raises(ValueError, match=rf'loaded {total - 1} of {total} tensors'):
        _check(backbone)
    runner = SimpleNamespace(model=torch.nn.Sequential(backbone), _has_loaded=False,
                             logger=MMLogger.get_current_instance())
    PretrainedCheckHook(min_loaded=0.9).before_train(runner)  # the user's own threshold


def test_train_tool_stops_on_a_pretrained_init_that_loads_nothing(tmp_path):
    ckpt = _checkpoint(tmp_path)
    for name, prefix in (('ok.py', "prefix='backbone.'"), ('bad.py', '')):
        extra = (f"model['backbone']['init_cfg'] = dict(type='Pretrained', checkpoint={ckpt!r}, "
                 f"{prefix})")
        config = write_classification_run(tmp_path, name=name, max_epochs=1, extra=extra)
        argv = [osp.join(ROOT, 'tools', 'train.py'), config, '--work-dir',
                str(tmp_path / f'wd_{name}')]
        if name == 'ok.py':  # trains, as a user starts it
            proc = subprocess.run([sys.executable, *argv], capture_output=True, text=True,
                                  cwd=ROOT, timeout=300, env=train_env())
        else:  # stops before the first iteration: the tool's __main__ in this process
            proc = run_main(*argv, cwd=ROOT)
        out = proc.stdout + proc.stderr
        assert 'custom_hooks: added PretrainedCheckHook' in out
        assert ('batch and lr: 4 per process x 1 process(es) = 4; lr 0.002 (no auto_scale_lr'
                in out)
        if name == 'ok.py':
            assert proc.returncode == 0, out[-3000:]
            assert 'tensors of model.backbone loaded from' in out
        else:
            assert proc.returncode != 0
            assert f"error: {ckpt}: init_cfg Pretrained (prefix None) loaded 0 of" in out, \
                out[-3000:]
            assert 'Epoch(train)' not in out
