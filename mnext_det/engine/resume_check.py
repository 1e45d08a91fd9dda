"""What ``--resume`` takes from the checkpoint instead of the config.

mmengine's resume restores the optimizer's parameter groups (their lr, weight
decay and the other options) and every param scheduler's state (``begin``,
``end``, ``T_max``) from the checkpoint, so a schedule changed in the config
or with ``--cfg-options`` before ``--resume`` does not apply to them: a larger
``max_epochs`` runs its extra epochs at the old schedule's last lr, with no
word in the log (mmengine#1565). :func:`check_resume` compares the
checkpoint's config (mmengine stores it in ``meta['cfg']``) with the one being
run, names every difference and whether it applies, and refuses a change of
optimizer constructor, whose parameter groups cannot be restored. It also
names a resume on another number of processes (``meta['world_size']``, written
by ``SafeCheckpointHook``): the batch of one step changes while the lr stays
the checkpoint's. mmengine's own check of that reads ``meta['config']``, a key
mmengine 0.10 does not write, so it never fires.

:func:`auto_resume` resolves ``--resume`` without a file before the runner is
built: from the work dir's last checkpoint, or, when there is none, from the
config's ``load_from`` weights, which mmdet's ``tools/train.py`` clears for
``--resume`` whether or not a checkpoint is found.
"""
import glob
import os.path as osp
from typing import Any, Dict, List, Optional

from mmengine.config import Config

from ..checkpoint import load_checkpoint_file, read_last_checkpoint, training_progress
from ..config_types import type_name
from .launch import launch_world_size

__all__ = ['SCHEDULE_KEYS', 'auto_resume', 'check_resume', 'config_differences', 'resume_source']

# the parts of a config that set the optimisation a resumed run continues
SCHEDULE_KEYS = ('train_cfg', 'param_scheduler', 'optim_wrapper', 'auto_scale_lr',
                 'train_dataloader.batch_size')
_FROM_OPTIMIZER_STATE = ('optim_wrapper.optimizer.', 'optim_wrapper.paramwise_cfg',
                         'auto_scale_lr')
_CONSTRUCTOR = 'optim_wrapper.constructor'
_DEFAULT_CONSTRUCTOR = 'DefaultOptimWrapperConstructor'
_MISSING = '<unset>'


def auto_resume(cfg: Config) -> str:
    """Set ``cfg`` for ``--resume`` without a file and return a line saying
    where training starts.

    With a ``last_checkpoint`` in ``cfg.work_dir``: resume from the checkpoint
    it names (``resume=True``, ``load_from`` that file; found by its name in
    the work dir when the dir was moved since). Without one: a fresh start as
    the config says, its ``load_from`` weights included (``resume=False``), so
    a job that passes ``--resume`` on every launch (preemption) starts its
    first launch from them; mmdet's tool drops them and starts from the init.

    Raises:
        FileNotFoundError: ``last_checkpoint`` is empty or names a missing
            file; the message names it.
    """
    if osp.isfile(osp.join(cfg.work_dir, 'last_checkpoint')):
        cfg.resume, cfg.load_from = True, read_last_checkpoint(cfg.work_dir, required=True)
        return f'from {cfg.load_from}, the last checkpoint in {cfg.work_dir}'
    cfg.resume = False
    start = (f"load_from {cfg.load_from}'s weights" if cfg.get('load_from')
             else "the config's init")
    saved = sorted(glob.glob(osp.join(cfg.work_dir, '*.pth')), key=osp.getmtime)
    hint = (f'; it holds {len(saved)} .pth file(s) but no last_checkpoint file: '
            f'--resume {saved[-1]} continues from the newest' if saved else '')
    return (f'no checkpoint in {cfg.work_dir}: training starts at the beginning from '
            f'{start}{hint}')


def resume_source(cfg: Config) -> Optional[str]:
    """The checkpoint ``cfg`` resumes from (``resume`` with ``load_from``, or
    the work dir's ``last_checkpoint``), None when it does not resume."""
    if not cfg.get('resume', False):
        return None
    return cfg.get('load_from') or read_last_checkpoint(cfg.work_dir)


def _flatten(value: Any, prefix: str, out: Dict[str, Any]) -> Dict[str, Any]:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f'{prefix}.{key}', out)
    elif isinstance(value, (list, tuple)) and any(isinstance(v, dict) for v in value):
        for i, item in enumerate(value):
            _flatten(item, f'{prefix}.{i}', out)
    else:
        out[prefix] = _plain(value)
    return out


def _plain(value: Any) -> Any:
    """Tuples as lists: a config read back from its text may spell one as the other."""
    return [_plain(v) for v in value] if isinstance(value, (list, tuple)) else value


def _leaves(cfg: Dict, dotted: str) -> Dict[str, Any]:
    """Every leaf under the key ``dotted`` of ``cfg`` by its dotted name."""
    value: Any = cfg
    for part in dotted.split('.'):
        if not isinstance(value, dict) or part not in value:
            return {}
        value = value[part]
    return _flatten(value, dotted, {})


def config_differences(saved: Config, current: Config) -> Dict[str, tuple]:
    """``{dotted key: (saved value, current value)}`` for every leaf under
    :data:`SCHEDULE_KEYS` that differs (``'<unset>'`` where one lacks it)."""
    diffs = {}
    saved_dict, current_dict = saved.to_dict(), current.to_dict()
    for key in SCHEDULE_KEYS:
        old, new = _leaves(saved_dict, key), _leaves(current_dict, key)
        for leaf in sorted(old.keys() | new.keys()):
            a, b = old.get(leaf, _MISSING), new.get(leaf, _MISSING)
            if leaf == _CONSTRUCTOR:
                a, b = (_DEFAULT_CONSTRUCTOR if v == _MISSING else v for v in (a, b))
            if a != b:
                diffs[leaf] = (a, b)
    return diffs


def _scheduler_ends(checkpoint: Dict) -> str:
    """The saved param schedulers' ends, e.g. ``'3 iterations, 9 iterations'``."""
    states = checkpoint.get('param_schedulers') or []
    if isinstance(states, dict):  # one list per optimizer
        states = [s for group in states.values() for s in group]
    ends = [f'{s.get("end")} {"epochs" if s.get("by_epoch") else "iterations"}'
            for s in states if isinstance(s, dict)]
    return ', '.join(ends) or 'none'


def _effect(key: str, ends: str) -> str:
    if key.startswith(_FROM_OPTIMIZER_STATE):
        return "not applied: the checkpoint's optimizer state sets every parameter group"
    if key.startswith('param_scheduler'):
        return "not applied: the checkpoint's param-scheduler state replaces it"
    if key in ('train_cfg.max_epochs', 'train_cfg.max_iters'):
        return ("applies to the loop; the param schedulers keep the checkpoint's ends "
                f"({ends}), after which the lr stays where they leave it")
    return 'applies'


def _world_size_change(saved: Config, current: Config, meta: Dict, ckpt: str) -> List[str]:
    """A line when ``current`` runs on another number of processes than the
    checkpoint's run, with the batch of one step before and after."""
    old = meta.get('world_size')
    new = launch_world_size(current)
    if old is None or old == new:
        return []
    old_batch = saved.train_dataloader.batch_size * old
    new_batch = current.train_dataloader.batch_size * new
    changed = old_batch != new_batch
    keep = (f'; --cfg-options train_dataloader.batch_size={old_batch // new} keeps '
            f'the batch of {old_batch}' if changed and old_batch % new == 0 else '')
    done = meta.get('iter') or 0
    skip = (f'; IterBasedTrainLoop skips {done} loader batches of the new size on resume '
            f'({done * new_batch} samples, where the run had read {done * old_batch})'
            if changed and done and type_name((current.get('train_cfg') or {}).get('type'))
            == 'IterBasedTrainLoop' else '')
    return [f'processes: {old} in {ckpt}, {new} now: the batch of one step is '
            f'{old_batch} -> {new_batch}, the lr stays the checkpoint optimizer\'s '
            f'(auto_scale_lr does not rescale a resumed run){skip}{keep}']


def check_resume(cfg: Config) -> List[str]:
    """One line per schedule setting in which ``cfg`` differs from the config
    its resume checkpoint was written with, saying whether it applies, one
    when the number of processes differs, and one when the checkpoint ends the
    run (nothing left to train); empty when ``cfg`` does not resume or
    nothing differs.

    Raises:
        ValueError: the optimizer constructor differs (its parameter groups
            cannot be restored); the message names the checkpoint and both.
    """
    ckpt = resume_source(cfg)
    if ckpt is None:
        return []
    checkpoint = load_checkpoint_file(ckpt)
    meta = checkpoint.get('meta') or {}
    text = meta.get('cfg')
    if not text:
        return [f'{ckpt} holds no config (meta.cfg): its schedule is not compared']
    saved = Config.fromstring(text, file_format='.py')
    diffs = config_differences(saved, cfg)
    if _CONSTRUCTOR in diffs:
        old, new = diffs[_CONSTRUCTOR]
        raise ValueError(
            f'{ckpt}: written with {_CONSTRUCTOR}={old}, the config has {new}: the optimizer '
            'state holds another parameter-group layout and cannot be resumed. Resume with '
            f'--cfg-options {_CONSTRUCTOR}={old}, or start from its weights with '
            f'load_from={ckpt} and no --resume')
    ends = _scheduler_ends(checkpoint)
    return [f'{key}: {old!r} in {ckpt}, {new!r} in the config ({_effect(key, ends)})'
            for key, (old, new) in diffs.items()] + _world_size_change(
                saved, cfg, meta, ckpt) + _nothing_left(cfg, meta, ckpt)


def _nothing_left(cfg: Config, meta: Dict, ckpt: str) -> List[str]:
    """A line when the checkpoint is at or past the run's last epoch or
    iteration: mmengine resumes, trains nothing and exits 0."""
    progress = training_progress(meta, cfg.get('train_cfg') or {})
    if progress is None or progress[1] < progress[2]:
        return []
    unit, done, total = progress
    key = 'max_epochs' if unit == 'epoch' else 'max_iters'
    return [f'{ckpt} is at {unit} {done} of train_cfg.{key}={total}: nothing is left to train '
            f'(a larger train_cfg.{key} trains on)']
