"""kill -9 mid-epoch, then ``--resume``: the random generator states are
restored and the run ends at the same iteration with the same weights, EMA
weights, optimizer and scheduler state as an uninterrupted run."""
import signal

import torch

from mnext_det import create_model

from ..conftest import EPOCHS, ITERS_PER_EPOCH, _assert_same_run, _last
from ..fault_injection import run_train, write_classification_run


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
