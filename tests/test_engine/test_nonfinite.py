"""NaN injection: training stops naming the iteration and the loss terms and
keeps the last good checkpoint, or skips the step when configured."""
import os.path as osp

import pytest
import torch

from mnext_det.checkpoint import load_checkpoint_file
from mnext_det.engine import NonFiniteLossHook

from ..fault_injection import model_tensors, run_train, write_classification_run


def _finite(ckpt_path: str) -> bool:
    state = model_tensors(load_checkpoint_file(ckpt_path)['state_dict'])
    return all(torch.isfinite(v).all() for v in state.values())


@pytest.mark.parametrize('target, what', [('logits', 'non-finite loss'),
                                          ('grad', 'non-finite gradient of classifier.1.weight')])
def test_nan_stops_training_and_keeps_last_good_checkpoint(tmp_path, target, what):
    cfg = write_classification_run(
        tmp_path, max_epochs=3,
        extra_hooks=[dict(type='InjectNaNHook', at_iter=7, target=target)])
    work = str(tmp_path / 'work')
    proc = run_train([cfg, '--work-dir', work])
    assert proc.returncode == 1
    err = proc.stderr.strip().splitlines()[-1]
    assert err.startswith(f'mnext_det.engine.nonfinite.NonFiniteLossError: {what}')
    assert 'at epoch 2, iteration 7: loss=' in err
    if target == 'logits':
        assert 'loss=nan' in err
    good = osp.join(work, 'epoch_1.pth')
    assert f'the last good checkpoint is {good}' in err
    assert not osp.exists(osp.join(work, 'epoch_2.pth'))
    assert _finite(good) and load_checkpoint_file(good)['meta']['iter'] == 4


def test_nan_step_skipped_when_configured(tmp_path):
    cfg = write_classification_run(
        tmp_path, max_epochs=3,
        extra_hooks=[dict(type='NonFiniteLossHook', action='skip'),
                     dict(type='InjectNaNHook', at_iter=7)])
    work = str(tmp_path / 'work')
    proc = run_train([cfg, '--work-dir', work])
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert 'non-finite loss at epoch 2, iteration 7 (loss=nan): update skipped (1 skipped' in log
    assert 'custom_hooks: added NonFiniteLossHook' not in log
    assert _finite(osp.join(work, 'epoch_3.pth'))


def test_bad_arguments():
    with pytest.raises(ValueError, match="action must be 'stop' or 'skip', got 'ignore'"):
        NonFiniteLossHook(action='ignore')
    with pytest.raises(ValueError, match='max_consecutive_skips must be >= 1, got 0'):
        NonFiniteLossHook(max_consecutive_skips=0)


def test_gradient_check_names_bad_tensors_and_leaves_gradients_bit_identical():
    from types import SimpleNamespace

    from mnext_det.engine.nonfinite import _nonfinite_grads
    params = [torch.nn.Parameter(torch.zeros(4)) for _ in range(3)]
    tiny = float(torch.finfo(torch.float32).tiny) / 4  # a subnormal
    params[0].grad = torch.tensor([1.5, -0.0, tiny, -3e38])
    params[1].grad = torch.tensor([0., float('nan'), 0., 0.])
    params[2].grad = torch.tensor([float('-inf'), 0., 0., 0.])
    before = [p.grad.clone() for p in params]
    wrapper = SimpleNamespace(optimizer=SimpleNamespace(param_groups=[dict(params=params)]))
    names = {id(p): f'p{i}' for i, p in enumerate(params)}
    assert _nonfinite_grads(wrapper, names) == ['p1', 'p2']
    params[1].grad, params[2].grad = torch.zeros(4), None
    assert _nonfinite_grads(wrapper, names) == []
    assert torch.equal(params[0].grad.view(torch.int32), before[0].view(torch.int32))
