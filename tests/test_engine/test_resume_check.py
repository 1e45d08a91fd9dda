"""engine.resume_check: what --resume takes from the checkpoint is named."""
import pytest
import torch
from mmengine.config import Config

from mnext_det.checkpoint import load_checkpoint_file
from mnext_det.engine.resume_check import auto_resume, check_resume, config_differences


def _resuming(small_run, **changes):
    tmp, config, _ = small_run
    cfg = Config.fromfile(config)
    cfg.work_dir, cfg.resume = str(tmp / 'first'), True
    cfg.merge_from_dict(changes)
    return cfg


def test_config_differences_are_per_leaf_and_ignore_tuple_vs_list():
    a = Config(dict(train_cfg=dict(max_epochs=2), param_scheduler=[dict(type='X', gamma=(1, 2))]))
    b = Config(dict(train_cfg=dict(max_epochs=4), param_scheduler=[dict(type='X', gamma=[1, 2])],
                    auto_scale_lr=dict(base_batch_size=8)))
    assert config_differences(a, b) == {'train_cfg.max_epochs': (2, 4),
                                        'auto_scale_lr.base_batch_size': ('<unset>', 8)}
    assert config_differences(a, a) == {}


def test_resume_names_what_the_checkpoint_overrides(small_run):
    # same config, from the run's last epoch: only that nothing is left to train (mmengine
    # resumed, trained nothing and exited 0 without a word)
    (line, ) = check_resume(_resuming(small_run))
    assert line.endswith('epoch_2.pth is at epoch 2 of train_cfg.max_epochs=2: nothing is left '
                         'to train (a larger train_cfg.max_epochs trains on)')
    assert check_resume(_resuming(small_run, resume=False, **{'train_cfg.max_epochs': 9})) == []
    lines = check_resume(_resuming(small_run, **{'train_cfg.max_epochs': 4,
                                                 'optim_wrapper.optimizer.lr': 0.1,
                                                 'param_scheduler.1.T_max': 4}))
    assert len(lines) == 3, lines
    by_key = {line.split(':')[0]: line for line in lines}
    epochs = by_key['train_cfg.max_epochs']
    assert '2 in ' in epochs and '4 in the config' in epochs
    # the warm-up and the cosine, converted to iterations (3 per epoch)
    assert "schedulers keep the checkpoint's ends (3 iterations, 9 iterations)" in epochs
    assert "0.01 in " in by_key['optim_wrapper.optimizer.lr']
    assert "not applied: the checkpoint's optimizer state" in by_key['optim_wrapper.optimizer.lr']
    assert "not applied: the checkpoint's param-scheduler state" in by_key[
        'param_scheduler.1.T_max']


def test_resume_refuses_another_optimizer_constructor(small_run):
    cfg = _resuming(small_run, **{'optim_wrapper.constructor': 'DefaultOptimWrapperConstructor'})
    with pytest.raises(ValueError, match=r'epoch_2\.pth: written with optim_wrapper.constructor='
                       r'MergedParamGroupsConstructor, the config has '
                       r'DefaultOptimWrapperConstructor.*load_from='):
        check_resume(cfg)


def test_resume_from_a_file_without_config_says_so(small_run, tmp_path):
    bare = tmp_path / 'bare.pth'
    torch.save(dict(state_dict={}, meta=dict(epoch=1, iter=3)), str(bare))
    cfg = _resuming(small_run, load_from=str(bare))
    assert check_resume(cfg) == [f'{bare} holds no config (meta.cfg): its schedule is not compared']


def test_resume_on_another_number_of_processes_names_the_batch(small_run, tmp_path,
                                                                monkeypatch):
    tmp, _, _ = small_run
    checkpoint = load_checkpoint_file(str(tmp / 'first' / 'epoch_2.pth'))
    checkpoint['meta']['world_size'] = 4  # as SafeCheckpointHook writes it for 4 processes
    checkpoint['meta']['epoch'] = 1  # a run with an epoch left
    four = tmp_path / 'four.pth'
    torch.save(checkpoint, str(four))
    cfg = _resuming(small_run, load_from=str(four), launcher='pytorch')
    monkeypatch.setenv('WORLD_SIZE', '2')
    assert check_resume(cfg) == [
        f"processes: 4 in {four}, 2 now: the batch of one step is 32 -> 16, the lr stays the "
        "checkpoint optimizer's (auto_scale_lr does not rescale a resumed run); --cfg-options "
        "train_dataloader.batch_size=16 keeps the batch of 32"]
    monkeypatch.setenv('WORLD_SIZE', '4')
    assert check_resume(cfg) == []


def test_iter_based_resume_on_another_number_of_processes_names_the_skipped_samples(
        small_run, tmp_path, monkeypatch):
    """mmengine's IterBasedTrainLoop skips as many loader batches as the run had
    done steps: of the new batch size, so another position in the data."""
    tmp, _, _ = small_run
    checkpoint = load_checkpoint_file(str(tmp / 'first' / 'epoch_2.pth'))
    saved = Config.fromstring(checkpoint['meta']['cfg'], file_format='.py')
    saved.train_cfg = dict(type='IterBasedTrainLoop', max_iters=40, val_interval=20)
    checkpoint['meta'].update(world_size=4, iter=12, cfg=saved.pretty_text)
    four = tmp_path / 'four.pth'
    torch.save(checkpoint, str(four))
    cfg = _resuming(small_run, load_from=str(four), launcher='pytorch')
    cfg.train_cfg = dict(saved.train_cfg)
    monkeypatch.setenv('WORLD_SIZE', '2')
    assert check_resume(cfg) == [
        f"processes: 4 in {four}, 2 now: the batch of one step is 32 -> 16, the lr stays the "
        "checkpoint optimizer's (auto_scale_lr does not rescale a resumed run); "
        "IterBasedTrainLoop skips 12 loader batches of the new size on resume (192 samples, "
        "where the run had read 384); --cfg-options train_dataloader.batch_size=16 keeps the "
        "batch of 32"]


def test_auto_resume_takes_the_last_checkpoint_else_starts_from_load_from(small_run, tmp_path):
    tmp, config, _ = small_run
    first = tmp / 'first'
    cfg = Config.fromfile(config)
    cfg.work_dir, cfg.load_from = str(first), 'weights.pth'
    assert auto_resume(cfg) == f'from {first / "epoch_2.pth"}, the last checkpoint in {first}'
    assert cfg.resume and cfg.load_from == str(first / 'epoch_2.pth')

    cfg.work_dir, cfg.load_from = str(tmp_path), 'weights.pth'  # no checkpoint: a fresh start
    assert auto_resume(cfg) == (f"no checkpoint in {tmp_path}: training starts at the "
                                "beginning from load_from weights.pth's weights")
    assert not cfg.resume and cfg.load_from == 'weights.pth'
    cfg.load_from = None
    assert auto_resume(cfg).endswith("from the config's init") and not cfg.resume

    (tmp_path / 'epoch_1.pth').write_bytes(b'')  # checkpoints without last_checkpoint
    (tmp_path / 'epoch_3.pth').write_bytes(b'')
    assert auto_resume(cfg).endswith(f"from the config's init; it holds 2 .pth file(s) but no "
                                     f"last_checkpoint file: --resume {tmp_path / 'epoch_3.pth'} "
                                     "continues from the newest")


def test_auto_resume_names_a_last_checkpoint_that_names_nothing(tmp_path):
    cfg = Config(dict(work_dir=str(tmp_path)))
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_9.pth'))
    with pytest.raises(FileNotFoundError, match='last_checkpoint names .*epoch_9.pth, which '
                       'does not exist'):
        auto_resume(cfg)
    (tmp_path / 'last_checkpoint').write_text('')
    with pytest.raises(FileNotFoundError, match='last_checkpoint: missing or empty'):
        auto_resume(cfg)
