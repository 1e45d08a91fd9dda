"""engine.pretrained_check: an init_cfg Pretrained that loads nothing or part
stops the run, and so does a load_from that leaves the backbone unset."""
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


def _runner(model, load_from=None):
    return SimpleNamespace(model=model, _resume=False, _load_from=load_from,
                           logger=MMLogger.get_current_instance())


def _check(backbone):
    PretrainedCheckHook().before_train(_runner(torch.nn.Sequential(backbone)))


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
    # the user's own threshold
    PretrainedCheckHook(min_loaded=0.9).before_train(_runner(torch.nn.Sequential(backbone)))


class _Classifier(torch.nn.Module):
    def __init__(self, widen_factor: float, num_classes: int) -> None:
        super().__init__()
        self.backbone = MobileNeXt(widen_factor=widen_factor)
        self.head = torch.nn.Linear(self.backbone.out_channels, num_classes)


def test_load_from_names_what_it_left_and_stops_on_an_unset_backbone(tmp_path):
    """A fine-tuning start for another class count loads all but the head; a
    checkpoint of another width leaves the backbone at its init, which mmengine
    only warns about among the run's first lines."""
    torch.manual_seed(3)
    source = _Classifier(0.35, num_classes=10)
    path = str(tmp_path / 'ten_classes.pth')
    torch.save(dict(state_dict=source.state_dict(), meta=dict(epoch=5)), path)
    target = _Classifier(0.35, num_classes=3)
    target.backbone.load_state_dict(source.backbone.state_dict())  # what load_from sets
    runner, lines = _runner(target, load_from=path), []
    runner.logger = SimpleNamespace(info=lines.append)
    PretrainedCheckHook().before_train(runner)
    total = len(target.state_dict()) - sum(1 for k in target.state_dict()
                                           if k.endswith('num_batches_tracked'))
    assert lines == [f'load_from: {total - 2} of {total} tensors of the model loaded from '
                     f'{path}; not loaded: head.weight, head.bias']

    other = str(tmp_path / 'other_width.pth')
    torch.save(dict(state_dict=_Classifier(0.5, 10).state_dict()), other)
    with pytest.raises(ValueError, match=r'other_width\.pth: load_from set \d+ of \d+ tensors '
                       r'of model\.backbone; not loaded: backbone\..*this network and width'):
        PretrainedCheckHook().before_train(_runner(target, load_from=other))
    PretrainedCheckHook().before_train(SimpleNamespace(  # a resumed run: not checked
        model=target, _resume=True, _load_from=other, logger=runner.logger))


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


def test_a_prefix_no_key_has_is_named_before_the_init(tmp_path):
    """A backbone-only file (or the authors' checkpoint) with
    prefix='backbone.': mmengine's init asserted 'backbone. is not in the
    pretrained model' in a traceback that names no file."""
    torch.manual_seed(1)
    bare = str(tmp_path / 'backbone_only.pth')
    torch.save(dict(state_dict=MobileNeXt(widen_factor=0.35).state_dict()), bare)
    backbone = MobileNeXt(widen_factor=0.35)
    backbone.init_cfg = dict(type='Pretrained', checkpoint=bare, prefix='backbone.')
    runner = _runner(torch.nn.Sequential(backbone))
    with pytest.raises(ValueError, match=rf"^{bare}: init_cfg Pretrained of model.0 takes the "
                       r"keys under prefix 'backbone.', and the checkpoint has none \(its keys "
                       r"look like features.0.0.weight.*needs no prefix \(--cfg-options "
                       r"model.0.init_cfg.prefix=None\)"):
        PretrainedCheckHook().before_run(runner)
    backbone.init_cfg = dict(type='Pretrained', checkpoint=_checkpoint(tmp_path),
                             prefix='backbone.')
    PretrainedCheckHook().before_run(runner)
    backbone.init_cfg = dict(type='Pretrained', checkpoint=bare)
    PretrainedCheckHook().before_run(runner)


def test_train_tool_stops_on_a_load_from_of_another_width(tmp_path):
    """The classification run's MobileNeXt-0.35 from a 0.5 checkpoint: stopped
    before the first iteration (the tool's __main__ in this process)."""
    ckpt = _checkpoint(tmp_path, widen_factor=0.5)
    config = write_classification_run(tmp_path, max_epochs=1)
    run = run_main(osp.join(ROOT, 'tools', 'train.py'), config, '--work-dir', tmp_path / 'wd',
                   '--cfg-options', f'load_from={ckpt}', cwd=ROOT)
    out = run.stdout + run.stderr
    assert run.returncode != 0 and 'custom_hooks: added PretrainedCheckHook' in out
    assert f'error: {ckpt}: load_from set ' in out and ' tensors of model.backbone' in out, \
        out[-3000:]
    assert 'Epoch(train)' not in out


def test_a_missing_checkpoint_file_is_named_with_its_key_before_building(tmp_path):
    """mmengine reports a missing init_cfg checkpoint after building the
    datasets and the model, naming the file but not the key to set."""
    from mnext_det.engine.pretrained_check import check_checkpoint_paths
    there = tmp_path / 'w.pth'
    there.write_bytes(b'')
    model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=str(there),
                                             prefix='backbone.')),
                 neck=dict(init_cfg=[dict(type='Xavier'),
                                     dict(type='Pretrained', checkpoint='https://x/y.pth')]))
    check_checkpoint_paths(dict(model=model, load_from=str(there)))
    model['backbone']['init_cfg']['checkpoint'] = 'checkpoints/nope.pth'
    with pytest.raises(FileNotFoundError, match=r'^model.backbone.init_cfg.checkpoint: checkpoint '
                       r'file not found: checkpoints/nope.pth; set --cfg-options '
                       r'model.backbone.init_cfg.checkpoint=PATH'):
        check_checkpoint_paths(dict(model=model))
    model['backbone']['init_cfg']['checkpoint'] = str(there)
    model['neck']['init_cfg'][1]['checkpoint'] = None
    with pytest.raises(ValueError, match=r'model.neck.init_cfg\[1\].checkpoint: a Pretrained '
                       'init_cfg needs a checkpoint file, got None'):
        check_checkpoint_paths(dict(model=model))
    model['neck']['init_cfg'][1]['checkpoint'] = str(there)
    with pytest.raises(FileNotFoundError, match='^load_from: checkpoint file not found'):
        check_checkpoint_paths(dict(model=model, load_from=str(tmp_path / 'gone.pth')))
    # a resume's file is resume_check's to name (--resume, not load_from)
    check_checkpoint_paths(dict(model=model, load_from=str(tmp_path / 'gone.pth'), resume=True))
