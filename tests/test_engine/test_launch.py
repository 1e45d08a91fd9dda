"""engine.launch: the --amp and --compile overrides that tools/train.py and the
detector benchmark share."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mnext_det.engine.launch import compile_options, load_config, with_amp, with_compile_options
from mnext_det.models.backbones.mobilenext import SandglassBlock

from ..conftest import DEMO_DET, ROOT


def test_with_amp_keeps_the_configs_optimizer_and_constructor():
    cfg = Config.fromfile(f'{ROOT}/configs/demo/ssdlite_mobilenext-050_1xb8-10e_shapes-160.py')
    amp = with_amp(cfg.optim_wrapper)
    assert amp['type'] == 'AmpOptimWrapper' and amp['loss_scale'] == 'dynamic'
    assert {k: v for k, v in amp.items() if k not in ('type', 'loss_scale')} == {
        k: v for k, v in cfg.optim_wrapper.items() if k != 'type'}
    assert cfg.optim_wrapper.type == 'OptimWrapper'  # the config itself is left alone


def test_compile_options_train_a_channels_last_block_as_eager_does():
    """The training compile of tools/train.py --compile (layouts forced to
    channels-last in the backward graph too) gives eager's loss and gradients."""
    torch.manual_seed(0)
    block = SandglassBlock(16, 16, stride=1, reduction=4).to(memory_format=torch.channels_last)
    assert block.use_shortcut
    x = torch.randn(4, 16, 8, 8).to(memory_format=torch.channels_last)

    def step(fn):
        block.zero_grad()
        loss = fn(x).square().mean()
        loss.backward()
        return loss.detach(), [p.grad.clone() for p in block.parameters()]

    eager_loss, eager_grads = step(block)
    compiled_loss, compiled_grads = step(torch.compile(block, **compile_options()))
    # float32 sums of at most 4*8*8*16 = 4096 terms in another order: an error
    # up to about 4096 * 2**-24 = 2.4e-4 of the largest gradient (a gradient
    # that is zero in exact arithmetic, as a BN bias's before a BN, is noise)
    torch.testing.assert_close(compiled_loss, eager_loss, rtol=2.5e-4, atol=0)
    scale = max(g.abs().max().item() for g in eager_grads)
    for compiled, eager in zip(compiled_grads, eager_grads):
        torch.testing.assert_close(compiled, eager, rtol=0, atol=2.5e-4 * scale)


LAYOUT = compile_options()['options']


@pytest.mark.parametrize('given, expected', [
    (True, compile_options()),
    (False, False),
    (None, None),
    (dict(dynamic=False), dict(dynamic=False, options=LAYOUT)),
    (dict(options=dict(max_autotune=True)), dict(options=dict(LAYOUT, max_autotune=True))),
    (dict(options=dict(force_layout_optimization=False)),  # the config's own choice wins
     dict(options=dict(force_layout_optimization=False))),
    (dict(mode='max-autotune'), dict(mode='max-autotune')),  # torch: mode or options
    (dict(backend='aot_eager'), dict(backend='aot_eager')),  # not inductor's options
])
def test_with_compile_options_adds_the_layout_fix_to_a_configs_compile(given, expected):
    assert with_compile_options(given) == expected


def _loop_cfg(per, base, enable=False, accumulate=1, launcher='none'):
    return Config(dict(train_dataloader=dict(batch_size=per), launcher=launcher,
                       optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.015),
                                          accumulative_counts=accumulate),
                       auto_scale_lr=dict(base_batch_size=base, enable=enable)))


def test_batch_and_lr_names_the_total_batch_and_what_auto_scale_lr_does(monkeypatch):
    from mnext_det.engine.launch import batch_and_lr
    assert batch_and_lr(_loop_cfg(24, 192)) == (
        '24 per process x 1 process(es) = 24; lr 0.015 (set for a batch of 192, used as set: '
        '--auto-scale-lr scales it to 0.001875)')
    assert batch_and_lr(_loop_cfg(24, 192, enable=True)).endswith(
        'lr 0.015 x 24/192 = 0.001875 (auto_scale_lr on)')
    monkeypatch.setenv('WORLD_SIZE', '8')
    assert batch_and_lr(_loop_cfg(24, 192, launcher='pytorch')) == (
        '24 per process x 8 process(es) = 192; lr 0.015 (set for this batch, '
        'auto_scale_lr.base_batch_size 192)')
    # mmengine scales by the batch of one step: accumulation is not in the ratio
    assert batch_and_lr(_loop_cfg(24, 192, enable=True, accumulate=2, launcher='pytorch')) == (
        '24 per process x 8 process(es) x 2 accumulated = 384; lr 0.015 x 192/192 = 0.015 '
        '(auto_scale_lr on)')


def test_load_config_refuses_a_work_dir_that_is_a_file(tmp_path):
    # mmengine ended in a FileExistsError traceback from os.makedirs
    file = tmp_path / 'notes.txt'
    file.write_text('x')
    with pytest.raises(NotADirectoryError, match=f'^work dir {file} is a file, not a folder'):
        load_config(DEMO_DET, str(file), None, 'none')
    assert load_config(DEMO_DET, str(tmp_path), None, 'none').work_dir == str(tmp_path)


def test_a_schedule_that_ends_after_the_training_is_said():
    """``--cfg-options train_cfg.max_epochs=4`` on the 10-epoch demo config
    left its cosine at T_max=10: the lr never annealed, without a word."""
    from mmengine.config import Config

    from mnext_det.engine.launch import schedulers_past_training
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'demo',
                                   'ssdlite_mobilenext-050_1xb8-10e_shapes-160.py'))
    assert schedulers_past_training(cfg) == []
    cfg.train_cfg.max_epochs = 4
    assert schedulers_past_training(cfg) == [
        'param_scheduler.1 (CosineAnnealingLR) ends at epoch 10, after train_cfg.max_epochs=4: '
        'training stops 4/10 of the way through it; set its end and T_max to 4 to run it whole']
    cfg.param_scheduler[1].update(end=4, T_max=4)
    assert schedulers_past_training(cfg) == []
    # ImageNet's cosine ends at 200 of 210 epochs (a cool-down): nothing to say
    imagenet = Config.fromfile(osp.join(ROOT, 'configs', 'imagenet',
                                        'mobilenext-100_8xb64-210e_in1k.py'))
    assert schedulers_past_training(imagenet) == []
