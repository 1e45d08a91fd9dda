"""Pretraining on mmengine's Runner with the real configs on a small generated
ImageFolder: learning, checkpoint + resume, evaluation (ours and an
official-format checkpoint through ``create_model``), and the tools without
mmcv/mmdet."""
import os
import os.path as osp
import subprocess
import sys
import textwrap

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mnext_det import create_model
from mnext_det.checkpoint import extract_state_dict, load_checkpoint_file

from .test_pretrain_data import make_image_folder
from .test_registry import BLOCK_MM

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
BASE = osp.join(ROOT, 'configs/imagenet/mobilenext-035_8xb64-210e_in1k.py')


def write_config(path, data_root: str, size: int, batch: int, lr: float, max_epochs: int,
                 cosine_end: int, base: str = BASE) -> str:
    """A config inheriting a real pretraining config, scaled down to the
    generated data (pipelines at ``size`` px, 3 classes, CPU, seed 0)."""
    path.write_text(textwrap.dedent(f'''
        _base_ = {base!r}
        model = dict(num_classes=3)
        train_pipeline = [
            dict(type='DecodeImage'),
            dict(type='TorchvisionTransforms', transforms=[
                dict(type='RandomChoice', transforms=[
                    dict(type='RandomResizedCrop', size={size}, interpolation='bilinear'),
                    dict(type='RandomResizedCrop', size={size}, interpolation='bicubic')]),
                dict(type='RandomHorizontalFlip'),
                dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4)]),
            dict(type='PackClsInputs')]
        test_pipeline = [
            dict(type='DecodeImage'),
            dict(type='TorchvisionTransforms', transforms=[
                dict(type='Resize', size={size}, interpolation='bicubic'),
                dict(type='CenterCrop', size={size})]),
            dict(type='PackClsInputs')]
        loader = dict(batch_size={batch}, num_workers=0, persistent_workers=False,
                      pin_memory=False)
        train_dataloader = dict(**loader, dataset=dict(
            data_root={data_root!r}, num_classes=3, pipeline=train_pipeline))
        val_dataloader = dict(**loader, dataset=dict(
            data_root={data_root!r}, num_classes=3, pipeline=test_pipeline))
        test_dataloader = val_dataloader
        optim_wrapper = dict(optimizer=dict(lr={lr}))
        param_scheduler = [
            dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
                 convert_to_iter_based=True),
            dict(type='CosineAnnealingLR', T_max={cosine_end - 1}, eta_min=1e-5,
                 by_epoch=True, begin=1, end={cosine_end}, convert_to_iter_based=True)]
        train_cfg = dict(max_epochs={max_epochs})
        default_hooks = dict(logger=dict(interval=1),
                             checkpoint=dict(max_keep_ckpts={max_epochs}))
        env_cfg = dict(dist_cfg=dict(backend='gloo'))
        randomness = dict(seed=0)
    '''))
    return str(path)


def _runner(config: str, work_dir, **overrides) -> Runner:
    cfg = Config.fromfile(config)
    cfg.work_dir = str(work_dir)
    cfg.merge_from_dict(overrides)
    return Runner.from_cfg(cfg)


def test_short_run_loss_falls_and_top1_beats_chance(tmp_path):
    data = make_image_folder(str(tmp_path / 'data'), n_train=40, n_val=10, size=72)
    config = write_config(tmp_path / 'cfg.py', data, size=64, batch=16, lr=0.02,
                          max_epochs=8, cosine_end=8)
    runner = _runner(config, tmp_path / 'work')
    runner.train()
    losses = runner.message_hub.get_scalar('train/loss').data[0]
    per_epoch = len(losses) // 8
    assert per_epoch == 120 // 16
    first, last = losses[:per_epoch].mean(), losses[-per_epoch:].mean()
    assert last < 0.8 * first, (first, last)
    top1 = runner.message_hub.get_scalar('val/accuracy/top1').current()
    assert top1 > 60.0, top1  # chance is 33.3 %


class _RecordIters(Hook):
    def __init__(self):
        self.iters, self.epochs, self.params = [], [], None

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if self.params is None:
            self.params = {k: v.clone() for k, v in runner.model.state_dict().items()}
        self.iters.append(runner.iter)
        self.epochs.append(runner.epoch)


@pytest.fixture(scope='module')
def small_run(tmp_path_factory):
    """Two epochs on 3 x 8 images at 32 px, 3 iterations per epoch."""
    tmp = tmp_path_factory.mktemp('pretrain')
    data = make_image_folder(str(tmp / 'data'), n_train=8, n_val=4, size=36)
    config = write_config(tmp / 'cfg.py', data, size=32, batch=8, lr=0.01, max_epochs=2,
                          cosine_end=3)
    runner = _runner(config, tmp / 'first')
    runner.train()
    return tmp, config, runner


def test_resume_continues_at_epoch_and_iteration(small_run):
    tmp, config, first = small_run
    assert (first.epoch, first.iter) == (2, 6)
    ckpt = str(tmp / 'first' / 'epoch_2.pth')
    resumed = _runner(config, tmp / 'resumed', train_cfg=dict(max_epochs=3),
                      resume=True, load_from=ckpt)
    record = _RecordIters()
    resumed.register_hook(record)
    resumed.train()
    assert record.epochs == [2, 2, 2] and record.iters == [6, 7, 8]
    assert (resumed.epoch, resumed.iter) == (3, 9)
    saved = extract_state_dict(load_checkpoint_file(ckpt))
    for k, v in saved.items():
        torch.testing.assert_close(record.params[k], v, msg=k)
    # the lr schedule continues where it stopped: same final lr as a straight 3-epoch run
    straight = _runner(config, tmp / 'straight', train_cfg=dict(max_epochs=3))
    straight.train()
    assert resumed.optim_wrapper.get_lr()['lr'] == pytest.approx(
        straight.optim_wrapper.get_lr()['lr'], rel=1e-9)


def _test_metrics(config: str, work_dir, checkpoint: str = None, model=None) -> dict:
    cfg = Config.fromfile(config)
    if model is None:
        runner = _runner(config, work_dir, load_from=checkpoint)
    else:
        runner = Runner(model=model, work_dir=str(work_dir),
                        test_dataloader=cfg.test_dataloader, test_evaluator=cfg.test_evaluator,
                        test_cfg=cfg.test_cfg, default_scope=cfg.default_scope)
    return runner.test()


def test_evaluate_checkpoint_and_official_format(small_run):
    tmp, config, first = small_run
    ckpt = str(tmp / 'first' / 'epoch_2.pth')
    ours = _test_metrics(config, tmp / 'eval', checkpoint=ckpt)
    assert set(ours) == {'accuracy/top1', 'accuracy/top5'}
    assert ours['accuracy/top5'] == 100.0  # 3 classes
    # the same weights in the authors' timm format, through create_model
    state = extract_state_dict(load_checkpoint_file(ckpt))
    official = dict(epoch=2, arch='mobilenext',
                    state_dict={k[len('backbone.'):] if k.startswith('backbone.') else k: v
                                for k, v in state.items()})
    path = str(tmp / 'official.pth.tar')
    torch.save(official, path)
    model = create_model('mobilenext_035', num_classes=3, checkpoint=path)
    assert _test_metrics(config, tmp / 'eval_official', model=model) == ours


def test_test_data_with_other_class_order_is_refused(small_run):
    tmp, config, _ = small_run
    ckpt = str(tmp / 'first' / 'epoch_2.pth')
    with pytest.raises(ValueError, match=r"first difference at index 0: 'red' vs 'blue'"):
        _runner(config, tmp / 'eval_reordered', load_from=ckpt,
                test_dataloader=dict(dataset=dict(classes=['red', 'green', 'blue']))).test()


def test_train_resume_test_tools_without_mmcv_and_mmdet(small_run):
    """tools/train.py, --resume and tools/test.py in one process that cannot
    import mmcv or mmdet."""
    tmp, config, _ = small_run
    work = str(tmp / 'tools')
    runs = [['tools/train.py', config, '--work-dir', work, '--cfg-options',
             'train_cfg.max_epochs=1'],
            ['tools/train.py', config, '--work-dir', work, '--resume', '--cfg-options',
             'train_cfg.max_epochs=2'],
            ['tools/test.py', config, osp.join(work, 'epoch_2.pth'), '--work-dir', work]]
    code = BLOCK_MM + textwrap.dedent(f'''
        import runpy
        for argv in {runs!r}:
            sys.argv = argv
            runpy.run_path(argv[0], run_name='__main__')
            print('TOOL DONE', argv[0], flush=True)
        assert not any(k.split('.')[0] in ('mmcv', 'mmdet') for k in sys.modules)
    ''')
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          timeout=300, cwd=ROOT, env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    assert out.count('TOOL DONE') == 3
    assert 'resumed epoch: 1, iter: 3' in out
    assert 'Epoch(train) [2][3/3]' in out
    assert 'accuracy/top1:' in out and 'accuracy/top5: 100.0000' in out


def test_test_tool_refuses_checkpoint_that_does_not_fit(small_run):
    """mmengine loads load_from non-strictly; tools/test.py must not evaluate
    random weights when the checkpoint is for another model."""
    tmp, config, _ = small_run
    wrong = str(tmp / 'width050.pth')
    torch.save(dict(state_dict=create_model('mobilenext_050', num_classes=3).state_dict()), wrong)
    proc = subprocess.run([sys.executable, 'tools/test.py', config, wrong, '--work-dir',
                           str(tmp / 'wrong')], capture_output=True, text=True, timeout=300,
                          cwd=ROOT, env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode != 0
    tail = proc.stderr[-2000:]
    assert 'width050.pth does not fit' in tail and 'shape mismatches' in tail, tail
    assert 'accuracy/top1:' not in proc.stdout + proc.stderr
