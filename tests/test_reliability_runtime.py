"""apply_fault_tolerance's config changes and atomic writes, in-process."""
import os

import pytest
from mmengine.config import Config

from mnext_det.engine import (apply_fault_tolerance, atomic_write_bytes,
                              configure_cpu_distributed, is_peer_failure)


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


def test_cpu_distributed_config(monkeypatch):
    monkeypatch.setattr('torch.cuda.is_available', lambda: False)
    cfg = _cfg(launcher='pytorch', env_cfg=dict(dist_cfg=dict(backend='nccl', timeout=60)))
    assert len(configure_cpu_distributed(cfg)) == 2
    assert cfg.env_cfg.dist_cfg == dict(backend='gloo', timeout=60)
    assert cfg.model_wrapper_cfg.type == 'CPUAwareDistributedDataParallel'
    assert configure_cpu_distributed(_cfg()) == []  # launcher none


def test_peer_failure_detection():
    assert is_peer_failure(RuntimeError('[gloo/transport/tcp/pair.cc:545] Read error: '
                                        'Connection reset by peer'))
    # gloo's words when a hung peer hits the timeout inside DDP's buffer broadcast
    assert is_peer_failure(RuntimeError('Application timeout caused pair closure'))
    assert not is_peer_failure(RuntimeError('CUDA out of memory'))
    assert not is_peer_failure(ValueError('gloo'))


def test_atomic_write_keeps_old_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / 'ckpt.pth'
    atomic_write_bytes(path, b'old')
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o666 & ~_umask())

    def broken_fsync(fd):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'fsync', broken_fsync)
    with pytest.raises(OSError, match='disk full'):
        atomic_write_bytes(path, b'new content')
    assert path.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['ckpt.pth']


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
