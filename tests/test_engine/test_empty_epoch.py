"""A training loader that gives no batch stops the run (tools/train.py before
the schedulers are built; EmptyEpochCheckHook for other scripts)."""
import os

import pytest

from ..fault_injection import run_train, write_classification_run

_ITER_BASED = ("param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, T_max=2, "
               "convert_to_iter_based=True)]")


@pytest.mark.parametrize('extra', ['', _ITER_BASED])
def test_a_loader_without_a_batch_stops_before_the_first_epoch(tmp_path, extra):
    """With drop_last, fewer samples than a batch made every epoch empty:
    mmengine validated the initial weights, saved them and exited 0, or,
    with an epoch schedule run per iteration, asserted ``epoch_length must
    be a positive integer, but got 0``."""
    cfg = write_classification_run(tmp_path, max_epochs=2, batch_size=64, extra=extra)
    work = tmp_path / 'work'
    proc = run_train([cfg, '--work-dir', str(work)])
    assert proc.returncode == 2, proc.stderr[-2000:]
    images = sum(len(files) for _, _, files in os.walk(tmp_path / 'data' / 'train'))
    assert proc.stderr.strip().splitlines()[-1] == (
        f'error: train_dataloader gives no batch: {images} sample(s) per process ({images} in '
        f'its dataset) and batch_size 64 with drop_last=True; set '
        f'train_dataloader.batch_size={images} or less, or give it more data')
    assert not [f for f in os.listdir(work) if f.endswith('.pth')]


def test_the_hook_stops_a_runner_started_without_the_tool(tmp_path):
    from mmengine.config import Config
    from mmengine.runner import Runner

    from mnext_det.engine import apply_fault_tolerance
    cfg = Config.fromfile(write_classification_run(tmp_path, max_epochs=2, batch_size=64))
    cfg.work_dir = str(tmp_path / 'work')
    apply_fault_tolerance(cfg)
    with pytest.raises(ValueError, match='train_dataloader gives no batch'):
        Runner.from_cfg(cfg).train()
