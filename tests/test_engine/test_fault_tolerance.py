"""apply_fault_tolerance's config changes, in-process."""

from mnext_det.engine import apply_fault_tolerance

from .runtime_cfg import runtime_cfg


def test_apply_fault_tolerance_changes_and_is_idempotent():
    cfg = runtime_cfg()
    changes = apply_fault_tolerance(cfg)
    assert cfg.default_hooks.checkpoint == dict(type='SafeCheckpointHook', interval=2,
                                                max_keep_ckpts=3)
    assert [h['type'] for h in cfg.custom_hooks] == ['EMAHook', 'RandomStateHook',
                                                     'EmptyEpochCheckHook', 'NonFiniteLossHook']
    assert cfg.train_dataloader.dataset.type == 'ValidatedDataset'
    assert cfg.train_dataloader.dataset.dataset.type == 'CocoDataset'
    assert len(changes) == 5
    assert apply_fault_tolerance(cfg) == []


def test_user_choices_are_kept():
    cfg = runtime_cfg(sample_validation=None)
    cfg.custom_hooks.append(dict(type='NonFiniteLossHook', action='skip'))
    cfg.default_hooks.checkpoint.type = 'mmdet.SomeOtherCheckpointHook'
    apply_fault_tolerance(cfg)
    assert cfg.train_dataloader.dataset.type == 'CocoDataset'
    assert cfg.default_hooks.checkpoint.type == 'mmdet.SomeOtherCheckpointHook'
    assert [h.get('action') for h in cfg.custom_hooks if h['type'] == 'NonFiniteLossHook'] == [
        'skip']
    skip = runtime_cfg(sample_validation=dict(on_error='skip'))
    apply_fault_tolerance(skip)
    assert skip.train_dataloader.dataset.on_error == 'skip'


def test_hook_entry_that_is_not_a_dict_is_named():
    import pytest
    # what --cfg-options makes of it
    cfg = runtime_cfg(custom_hooks=["dict(type='ChannelsLastHook')"])
    with pytest.raises(ValueError, match=r"custom_hooks: .*\"dict\(type='ChannelsLastHook'\)\""):
        apply_fault_tolerance(cfg)


def test_a_pretrained_init_gets_its_check_hook():
    cfg = runtime_cfg(
        model=dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint='x.pth'))))
    assert 'custom_hooks: added PretrainedCheckHook' in apply_fault_tolerance(cfg)
    assert [h['type'] for h in cfg.custom_hooks][-1] == 'PretrainedCheckHook'
    assert apply_fault_tolerance(cfg) == []
