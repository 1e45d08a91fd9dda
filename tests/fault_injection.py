"""Training runs with injected faults, for the reliability and distributed tests
(no tests here).

``write_classification_run`` writes a few generated images in class folders
and an mmengine config training a MobileNeXt-0.35 ImageClassifier on them.
The hooks below inject faults into a training subprocess; configs pull them
in with ``custom_imports=['tests.fault_injection']``.
"""
import os
import os.path as osp
import signal
import subprocess
import sys
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from PIL import Image

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


class CodeRunningPayload:
    """Unpickling this runs ``touch <marker>`` (what a malicious file does)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def make_image_folder(root: str, per_class: int = 8, size: int = 64, seed: int = 0) -> str:
    """Two classes of noisy coloured squares as PNG files under ``root/train``."""
    rng = np.random.default_rng(seed)
    for c, colour in enumerate(((200, 40, 40), (40, 40, 200))):
        folder = osp.join(root, 'train', f'class{c}')
        os.makedirs(folder, exist_ok=True)
        for i in range(per_class):
            img = rng.integers(0, 60, (size, size, 3)).astype(np.uint8)
            x, y = rng.integers(0, size // 2, 2)
            img[y:y + size // 2, x:x + size // 2] = colour
            Image.fromarray(img).save(osp.join(folder, f'{i:03d}.png'))
    return root


def write_classification_run(tmp_path, name: str = 'cfg.py', max_epochs: int = 6,
                             ckpt: Optional[Dict] = None, extra_hooks: Sequence[Dict] = (),
                             batch_size: int = 4, dist_timeout: int = 60,
                             extra: str = '') -> str:
    """Write data (once) and a config; return the config path."""
    data = str(tmp_path / 'data')
    if not osp.isdir(data):
        make_image_folder(data)
    ckpt = ckpt or dict(type='CheckpointHook', interval=1, max_keep_ckpts=1)
    hooks = [dict(type='EMAHook', momentum=0.1)] + list(extra_hooks)
    text = f'''
default_scope = 'mmengine'
custom_imports = dict(imports=['mnext_det', 'mnext_det.datasets', 'mnext_det.engine',
                               'tests.fault_injection'], allow_failed_imports=False)
model = dict(type='ImageClassifier', backbone=dict(type='MobileNeXt', widen_factor=0.35),
             num_classes=2, drop_rate=0.2,
             data_preprocessor=dict(type='ImgDataPreprocessor', mean=[128.0] * 3, std=[64.0] * 3))
train_dataloader = dict(
    batch_size={batch_size}, num_workers=0, drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ImageFolderDataset', data_root={data!r}, data_prefix='train',
                 pipeline=[dict(type='DecodeImage'),
                           dict(type='TorchvisionTransforms',
                                transforms=[dict(type='RandomHorizontalFlip')]),
                           dict(type='PackClsInputs')]))
train_cfg = dict(by_epoch=True, max_epochs={max_epochs})
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.002, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[2, 4], gamma=0.5)]
default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'), timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=1), param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint={ckpt!r}, sampler_seed=dict(type='DistSamplerSeedHook'))
custom_hooks = {hooks!r}
env_cfg = dict(cudnn_benchmark=False, mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
               dist_cfg=dict(backend='gloo', timeout={dist_timeout}))
randomness = dict(seed=0, deterministic=False)
log_level = 'INFO'
load_from = None
resume = False
{extra}
'''
    path = str(tmp_path / name)
    with open(path, 'w') as f:
        f.write(text)
    return path


def train_env(**extra: str) -> Dict[str, str]:
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get('PYTHONPATH', ''),
               OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    env.pop('MNEXT_TRUSTED_CHECKPOINTS', None)
    env.update(extra)
    return env


def run_train(args: List[str], timeout: int = 240, **env: str) -> subprocess.CompletedProcess:
    """Run tools/train.py with ``args`` in a subprocess."""
    return subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'train.py')] + args,
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env=train_env(**env))


def model_tensors(state: Dict[str, Any]) -> Dict[str, torch.Tensor]:
    return {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}


@HOOKS.register_module()
class SelfKillHook(Hook):
    """Send ``sig`` to this process after training iteration ``at_iter``
    (1-based, counted over the whole run) on rank ``rank``."""

    def __init__(self, at_iter: int, sig: int = int(signal.SIGKILL), rank: int = 0) -> None:
        self.at_iter, self.sig, self.rank = at_iter, sig, rank

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if runner.iter + 1 == self.at_iter and get_rank() == self.rank:
            with open(osp.join(runner.work_dir, f'rank{self.rank}_signalled'), 'w') as f:
                f.write(repr(__import__('time').time()))
            os.kill(os.getpid(), self.sig)


@HOOKS.register_module()
class KillDuringSaveHook(Hook):
    """SIGKILL this process while it writes checkpoint ``filename``: the
    temporary file is cut to half its size and the rename never happens."""

    def __init__(self, filename: str) -> None:
        self.filename = filename

    def before_train(self, runner) -> None:
        real_replace = os.replace
        target = self.filename

        def replace(src, dst, *args, **kwargs):
            if str(dst).endswith(target):
                os.truncate(src, os.path.getsize(src) // 2)
                os.kill(os.getpid(), signal.SIGKILL)
            return real_replace(src, dst, *args, **kwargs)

        os.replace = replace


@HOOKS.register_module()
class InjectNaNHook(Hook):
    """At training iteration ``at_iter`` (1-based) make the logits (and so
    the loss) NaN, or (``target='grad'``) the classifier's weight gradient."""

    def __init__(self, at_iter: int, target: str = 'logits') -> None:
        self.at_iter, self.target = at_iter, target
        self._handle = None

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if runner.iter + 1 != self.at_iter:
            return
        model = runner.model.module if hasattr(runner.model, 'module') else runner.model
        if self.target == 'grad':
            self._handle = model.classifier[1].weight.register_hook(
                lambda grad: grad * float('nan'))
        else:
            self._handle = model.classifier.register_forward_hook(
                lambda module, args, out: out * float('nan'))

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None


@HOOKS.register_module()
class DumpRankStateHook(Hook):
    """At the end of training, save this rank's parameters and the sum of
    the inputs it trained on to ``work_dir/rank{r}.pth``."""

    def __init__(self) -> None:
        self.input_sum = 0.0
        self.init_params: Dict[str, torch.Tensor] = {}

    def before_train(self, runner) -> None:
        model = runner.model.module if hasattr(runner.model, 'module') else runner.model
        self.init_params = {k: v.detach().clone() for k, v in model.named_parameters()}

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self.input_sum += float(data_batch['inputs'].double().sum())

    def after_train(self, runner) -> None:
        model = runner.model.module if hasattr(runner.model, 'module') else runner.model
        torch.save(dict(params={k: v.detach().clone() for k, v in model.named_parameters()},
                        init_params=self.init_params, input_sum=self.input_sum,
                        iters=runner.iter),
                   osp.join(runner.work_dir, f'rank{get_rank()}.pth'))
