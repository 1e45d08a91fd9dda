"""kill -9 during a checkpoint save: SafeCheckpointHook keeps the previous
checkpoint, and ``--resume`` ends at the same iteration with the same weights,
EMA weights, optimizer and scheduler state as an uninterrupted run; a resume
from another model's checkpoint stops with the file and keys named."""
import glob
import os.path as osp
import signal

import pytest
import torch

from mnext_det.checkpoint import load_checkpoint_file

from ..conftest import EPOCHS, ROOT, _assert_same_run, _last
from ..fault_injection import run_train, write_classification_run
from ..tool_main import run_main


def test_checkpoints_record_the_world_size_and_identity_multiplier(reference):
    meta = load_checkpoint_file(reference[2])['meta']
    # read by engine.resume_check to name a resume on another number of processes
    assert meta['world_size'] == 1
    # read by identity_meta to refuse the weights for a model with another one
    assert meta['identity_tensor_multiplier'] == 1.0


def test_sigkill_during_checkpoint_save_keeps_previous_then_resume(reference):
    tmp, cfg, ref_last = reference
    killer = write_classification_run(
        tmp, name='kill_in_save.py', max_epochs=EPOCHS,
        extra_hooks=[dict(type='KillDuringSaveHook', filename='epoch_3.pth')])
    work = str(tmp / 'killed_in_save')
    proc = run_train([killer, '--work-dir', work])
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    # max_keep_ckpts=1: mmengine's CheckpointHook deletes epoch_2.pth before
    # writing epoch_3.pth; SafeCheckpointHook deletes it only afterwards.
    assert _last(work) == osp.join(work, 'epoch_2.pth')
    assert not osp.exists(osp.join(work, 'epoch_3.pth'))
    partial = glob.glob(osp.join(work, '.epoch_3.pth.*.tmp'))
    assert len(partial) == 1
    with pytest.raises(Exception):
        torch.load(partial[0], weights_only=True)
    assert load_checkpoint_file(_last(work))['meta']['epoch'] == 2

    proc = run_train([cfg, '--work-dir', work, '--resume'])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'left by an interrupted save' in proc.stdout + proc.stderr
    assert not glob.glob(osp.join(work, '.*.tmp'))
    assert sorted(osp.basename(p) for p in glob.glob(osp.join(work, '*.pth'))) == [
        f'epoch_{EPOCHS}.pth']
    _assert_same_run(_last(work), ref_last)


def test_resume_from_another_models_checkpoint_names_file_and_keys(small_run, tmp_path):
    """The run's MobileNeXt-0.35 checkpoint resumed into the same config at
    width 0.5 (the tool's __main__ in this process: it stops before training).
    mmengine alone loads the weights non-strictly and then fails on the
    optimizer state: 'loaded state dict contains a parameter group that
    doesn't match the size of optimizer's group'."""
    tmp, config, _ = small_run
    ckpt = str(tmp / 'first' / 'epoch_2.pth')
    run = run_main(osp.join(ROOT, 'tools', 'train.py'), config, '--work-dir', tmp_path / 'wd',
                   '--resume', ckpt, '--cfg-options', 'model.backbone.widen_factor=0.5',
                   cwd=ROOT)
    out = run.stdout + run.stderr
    assert run.returncode != 0
    assert f"error: {ckpt} does not match the config's model: " in out, out[-3000:]
    assert 'shape mismatches (backbone.' in out and 'load_from without --resume' in out
    assert 'Epoch(train)' not in out


def test_resume_with_another_identity_multiplier_or_other_classes_is_refused(
        reference, small_run, tmp_path):
    """The weights fit either way, so mmengine resumed: another network
    (identity 0.5 from a full-shortcut run), or labels that mean other
    classes (with a warning naming neither the file nor the classes)."""
    from ..conftest import make_image_folder
    _, ref_config, ref_last = reference
    tmp, config, _ = small_run
    ckpt = str(tmp / 'first' / 'epoch_2.pth')
    other = make_image_folder(str(tmp_path / 'other'), n_train=8, n_val=4, size=36,
                              classes=('cyan', 'magenta', 'yellow'))
    for cfg, resume, option, message in (
            (ref_config, ref_last, 'model.backbone.identity_tensor_multiplier=0.5',
             f"error: {ref_last} was saved from a MobileNeXt with identity_tensor_multiplier "
             "1, the config's model has 0.5"),
            (config, ckpt, f'train_dataloader.dataset.data_root={other}',
             f"error: {ckpt} was trained on the classes ['blue', 'green', 'red']; this run's "
             "train data has ['cyan', 'magenta', 'yellow']: --resume continues the run")):
        run = run_main(osp.join(ROOT, 'tools', 'train.py'), cfg, '--work-dir',
                       tmp_path / 'wd', '--resume', resume, '--cfg-options', option,
                       'train_cfg.max_epochs=9', cwd=ROOT)
        out = run.stdout + run.stderr
        assert run.returncode == 2 and message in out, out[-3000:]
        assert 'Epoch(train)' not in out
