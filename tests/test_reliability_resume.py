"""kill -9 during training and during a checkpoint save, then ``--resume``:
the run ends at the same iteration with the same weights, EMA weights,
optimizer and scheduler state as an uninterrupted run."""
import glob
import os.path as osp
import signal

import pytest
import torch

from mnext_det import create_model
from mnext_det.checkpoint import load_checkpoint_file

from .reliability_fixtures import model_tensors, run_train, write_classification_run

EPOCHS, ITERS_PER_EPOCH = 5, 4


def _last(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def _assert_same_run(ckpt_a: str, ckpt_b: str) -> None:
    a, b = load_checkpoint_file(ckpt_a), load_checkpoint_file(ckpt_b)
    assert (a['meta']['epoch'], a['meta']['iter']) == (b['meta']['epoch'], b['meta']['iter'])
    for key in ('state_dict', 'ema_state_dict'):
        ta, tb = model_tensors(a[key]), model_tensors(b[key])
        assert ta.keys() == tb.keys()
        for k in ta:
            torch.testing.assert_close(ta[k], tb[k], rtol=0, atol=0, msg=f'{key}.{k}')
    sa, sb = a['optimizer']['state'], b['optimizer']['state']
    assert sa.keys() == sb.keys()
    for k in sa:
        torch.testing.assert_close(sa[k]['momentum_buffer'], sb[k]['momentum_buffer'],
                                   rtol=0, atol=0)
    assert a['param_schedulers'] == b['param_schedulers']


@pytest.fixture(scope='module')
def reference(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('reference')
    cfg = write_classification_run(tmp, max_epochs=EPOCHS)
    work = str(tmp / 'work')
    proc = run_train([cfg, '--work-dir', work])
    assert proc.returncode == 0, proc.stderr[-3000:]
    last = _last(work)
    assert last.endswith(f'epoch_{EPOCHS}.pth')
    return tmp, cfg, last


def test_sigkill_mid_epoch_then_resume(reference):
    tmp, cfg, ref_last = reference
    kill_at = 2 * ITERS_PER_EPOCH + 2  # epoch 3, second iteration
    killer = write_classification_run(tmp, name='kill_mid_epoch.py', max_epochs=EPOCHS,
                                      extra_hooks=[dict(type='SelfKillHook', at_iter=kill_at)])
    work = str(tmp / 'killed_mid_epoch')
    proc = run_train([killer, '--work-dir', work])
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert _last(work).endswith('epoch_2.pth')

    proc = run_train([cfg, '--work-dir', work, '--resume'])
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert 'resumed epoch: 2, iter: 8' in log
    assert 'restored random generator states' in log
    last = _last(work)
    assert last.endswith(f'epoch_{EPOCHS}.pth')
    _assert_same_run(last, ref_last)
    model = create_model('mobilenext_035', num_classes=2, checkpoint=last)
    assert all(torch.isfinite(p).all() for p in model.parameters())


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
