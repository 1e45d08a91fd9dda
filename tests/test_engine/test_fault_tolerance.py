"""apply_fault_tolerance's config changes, in-process."""
from mmengine.config import Config

from mnext_det.engine import apply_fault_tolerance


def _cfg(**extra):
    base = dict(
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=2, max_keep_ckpts=3)),
        custom_hooks=[dict(type='EMAHook')],
        train_dataloader=dict(dataset=dict(type='CocoDataset', ann_file='a.json')),
        launcher='none')
    return Config(dict(base, **extra))


def test_apply_fault_tolerance_changes_and_is_idempotent():
    cfg = _cfg()
    changes = apply_fault_tolerance(cfg)
    assert cfg.default_hooks.checkpoint == dict(type='SafeCheckpointHook', interval=2,
                                                max_keep_ckpts=3)
    assert [h['type'] for h in cfg.custom_hooks] == ['EMAHook', 'RandomStateHook',
                                                     'NonFiniteLossHook']
    assert cfg.train_dataloader.dataset.type == 'ValidatedDataset'
    assert cfg.train_dataloader.dataset.dataset.type == 'CocoDataset'
    assert len(changes) == 4
    assert apply_fault_tolerance(cfg) == []


def test_user_choices_are_kept():
    cfg = _cfg(sample_validation=None)
    cfg.custom_hooks.append(dict(type='NonFiniteLossHook', action='skip'))
    cfg.default_hooks.checkpoint.type = 'mmdet.SomeOtherCheckpointHook'
    apply_fault_tolerance(cfg)
    assert cfg.train_dataloader.dataset.type == 'CocoDataset'
    assert cfg.default_hooks.checkpoint.type == 'mmdet.SomeOtherCheckpointHook'
    assert [h.get('action') for h in cfg.custom_hooks if h['type'] == 'NonFiniteLossHook'] == [
        'skip']
    skip = _cfg(sample_validation=dict(on_error='skip'))
    apply_fault_tolerance(skip)
    assert skip.train_dataloader.dataset.on_error == 'skip'


def test_hook_entry_that_is_not_a_dict_is_named():
    import pytest
    cfg = _cfg(custom_hooks=["dict(type='ChannelsLastHook')"])  # what --cfg-options makes of it
    with pytest.raises(ValueError, match=r"custom_hooks: .*\"dict\(type='ChannelsLastHook'\)\""):
        apply_fault_tolerance(cfg)


def test_a_pretrained_init_gets_its_check_hook():
    cfg = _cfg(model=dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint='x.pth'))))
    assert 'custom_hooks: added PretrainedCheckHook' in apply_fault_tolerance(cfg)
    assert [h['type'] for h in cfg.custom_hooks][-1] == 'PretrainedCheckHook'
    assert apply_fault_tolerance(cfg) == []
