"""Check that ``init_cfg=dict(type='Pretrained', ...)`` loaded what it names.

mmengine's ``PretrainedInit`` loads non-strictly: a checkpoint whose keys miss
the module's (no ``prefix`` where one is needed, another network or width)
leaves those tensors at their random init, logs a warning among hundreds of
lines and trains on (mmpretrain#462, mmdetection#5184). Before the first
step :class:`PretrainedCheckHook` compares every such module's tensors with
the checkpoint's, logs ``N of M tensors of <module> loaded from <file>`` and
stops the run when fewer than ``min_loaded`` of them hold the checkpoint's
values; a ``prefix`` that no key of the checkpoint has is named before the
init, where mmengine asserts it without naming the file. A checkpoint that
records another identity tensor multiplier than the module's MobileNeXt stops
it too (:mod:`mnext_det.identity_meta`).

``load_from`` (a fine-tuning start, without ``--resume``) loads non-strictly
as well: the hook logs ``load_from: N of M tensors of the model loaded from
<file>`` with the tensors it did not set (a head for another class count is
expected there) and stops the run when the model's backbone is not loaded in
full: another network, width or identity multiplier.
"""
import os.path as osp
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ..checkpoint import extract_state_dict, load_checkpoint_file
from ..config_types import type_name
from ..identity_meta import check_identity_multiplier
from .unwrap import unwrap_model

__all__ = ['PretrainedCheckHook', 'pretrained_inits', 'loaded_tensors', 'has_pretrained_init',
           'check_checkpoint_paths']


def _is_pretrained(cfg: Any) -> bool:
    return isinstance(cfg, Mapping) and type_name(cfg.get('type')) == 'Pretrained'


def _entries(init_cfg: Any) -> List[Mapping]:
    entries = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return [e for e in entries if _is_pretrained(e)]


def has_pretrained_init(cfg: Any) -> bool:
    """Whether a (model) config holds an ``init_cfg`` of type ``Pretrained`` anywhere."""
    if isinstance(cfg, Mapping):
        return bool(_entries(cfg.get('init_cfg'))) or any(
            has_pretrained_init(v) for k, v in cfg.items() if k != 'init_cfg')
    if isinstance(cfg, (list, tuple)):
        return any(has_pretrained_init(v) for v in cfg)
    return False


def _pretrained_checkpoints(cfg: Any, where: str) -> Iterator[Tuple[str, Any]]:
    """``(key, checkpoint)`` of every ``Pretrained`` ``init_cfg`` in a config."""
    if isinstance(cfg, Mapping):
        init = cfg.get('init_cfg')
        entries = init if isinstance(init, (list, tuple)) else [init]
        for i, entry in enumerate(entries):
            if _is_pretrained(entry):
                at = f'{where}.init_cfg' + (f'[{i}]' if isinstance(init, (list, tuple)) else '')
                yield f'{at}.checkpoint', entry.get('checkpoint')
        for k, v in cfg.items():
            if k != 'init_cfg':
                yield from _pretrained_checkpoints(v, f'{where}.{k}')
    elif isinstance(cfg, (list, tuple)):
        for i, v in enumerate(cfg):
            yield from _pretrained_checkpoints(v, f'{where}[{i}]')


def check_checkpoint_paths(cfg: Mapping) -> None:
    """Refuse, before anything is built, a local checkpoint file that a
    ``Pretrained`` ``init_cfg`` of ``cfg.model`` or ``cfg.load_from`` names
    and that is not there (mmengine reports it after building the datasets
    and the model, naming the file but not the key). URLs and mmengine's
    ``scheme://`` names are left to mmengine, and a resume's file to
    :mod:`.resume_check`."""
    found = list(_pretrained_checkpoints(cfg.get('model'), 'model'))
    if cfg.get('load_from') and not cfg.get('resume'):
        found.append(('load_from', cfg.get('load_from')))
    for key, path in found:
        if not isinstance(path, str) or not path:
            raise ValueError(f'{key}: a Pretrained init_cfg needs a checkpoint file, '
                             f'got {path!r}')
        if '://' not in path and not osp.isfile(path):
            scratch = (' (or train from random weights: our -scratch configs)'
                       if key != 'load_from' else '')
            raise FileNotFoundError(f'{key}: checkpoint file not found: {path}; set '
                                    f'--cfg-options {key}=PATH{scratch}')


def pretrained_inits(model: torch.nn.Module) -> Iterator[Tuple[str, torch.nn.Module, Mapping]]:
    """``(module name, module, Pretrained entry)`` for every module whose
    ``init_cfg`` loads a checkpoint."""
    for name, module in model.named_modules():
        for entry in _entries(getattr(module, 'init_cfg', None)):
            yield name, module, entry


def loaded_tensors(module: torch.nn.Module, state: Dict[str, torch.Tensor],
                   prefix: Optional[str]) -> Tuple[List[str], List[str]]:
    """``(loaded, not loaded)`` keys of ``module``'s state dict: loaded where
    ``state`` (keys under ``prefix``) holds a tensor of the same shape and
    values. BN's ``num_batches_tracked`` counters are left out."""
    if prefix:
        prefix = prefix if prefix.endswith('.') else prefix + '.'
        state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    loaded, missing = [], []
    for key, own in module.state_dict().items():
        if key.endswith('num_batches_tracked'):
            continue
        theirs = state.get(key)
        same = (theirs is not None and theirs.shape == own.shape
                and torch.equal(own.detach().cpu(), theirs.to(own.dtype)))
        (loaded if same else missing).append(key)
    return loaded, missing


def _first(keys: List[str], limit: int = 5) -> str:
    """The first ``limit`` keys, comma-separated, with `` ...`` when there are more."""
    return ', '.join(keys[:limit]) + (' ...' if len(keys) > limit else '')


@HOOKS.register_module()
class PretrainedCheckHook(Hook):
    """Before training, check what ``load_from`` or, without it, each
    ``Pretrained`` init loaded (see the module doc). Skipped when the run
    resumes.

    Args:
        min_loaded: Fraction of a ``Pretrained`` module's tensors, or of the
            backbone's under ``load_from`` (parameters and buffers), that must
            hold the checkpoint's values. Default: 1.0.
    """

    priority = 'VERY_HIGH'

    def __init__(self, min_loaded: float = 1.0) -> None:
        if not 0 < min_loaded <= 1:
            raise ValueError(f'PretrainedCheckHook: min_loaded must be in (0, 1], got {min_loaded}')
        self.min_loaded = min_loaded

    def before_run(self, runner) -> None:
        """Refuse, before the weights are initialised, a ``Pretrained``
        prefix that no key of its checkpoint has: mmengine's init asserts
        it with ``AssertionError: backbone. is not in the pretrained model``
        (no file named)."""
        if runner._resume or runner._load_from:
            return
        for name, _, entry in pretrained_inits(unwrap_model(runner.model)):
            path, prefix = entry['checkpoint'], entry.get('prefix')
            if not prefix or '://' in str(path):
                continue
            state = extract_state_dict(load_checkpoint_file(path), path)
            if not any(k.startswith(prefix) for k in state):
                raise ValueError(
                    f'{path}: init_cfg Pretrained of model.{name} takes the keys under prefix '
                    f'{prefix!r}, and the checkpoint has none (its keys look like '
                    f'{", ".join(list(state)[:3])}): a backbone-only file needs no prefix '
                    f'(--cfg-options model.{name}.init_cfg.prefix=None); the authors\' '
                    'checkpoints need tools/model_converters/convert_official_ckpt.py first')

    def before_train(self, runner) -> None:
        if runner._resume:
            return
        model = unwrap_model(runner.model)
        if runner._load_from:
            self._check_load_from(runner, model, runner._load_from)
            return
        for name, module, entry in pretrained_inits(model):
            path, prefix = entry['checkpoint'], entry.get('prefix')
            ckpt = load_checkpoint_file(path)
            where = f'model.{name}' if name else 'the model'
            check_identity_multiplier(ckpt, module, path, where)
            state = extract_state_dict(ckpt, path)
            loaded, missing = loaded_tensors(module, state, prefix)
            total = len(loaded) + len(missing)
            runner.logger.info(f'init_cfg Pretrained: {len(loaded)} of {total} tensors of '
                               f'{where} loaded from {path}')
            if len(loaded) < self.min_loaded * total:
                raise ValueError(
                    f'{path}: init_cfg Pretrained (prefix {prefix!r}) loaded {len(loaded)} of '
                    f'{total} tensors of {where}; not loaded: {_first(missing)}. The '
                    f'checkpoint\'s keys look like '
                    f'{", ".join(list(state)[:3])}: check the prefix (e.g. \'backbone.\' for a '
                    'pretraining checkpoint) and that it is this network and width')

    def _check_load_from(self, runner, model: torch.nn.Module, path: str) -> None:
        ckpt = load_checkpoint_file(path)
        check_identity_multiplier(ckpt, model, path)
        state = extract_state_dict(ckpt, path)
        loaded, missing = loaded_tensors(model, state, None)
        runner.logger.info(f'load_from: {len(loaded)} of {len(loaded) + len(missing)} tensors '
                           f'of the model loaded from {path}'
                           + (f'; not loaded: {_first(missing)}' if missing else ''))
        if not isinstance(getattr(model, 'backbone', None), torch.nn.Module):
            return
        total = sum(1 for k in loaded + missing if k.startswith('backbone.'))
        not_set = [k for k in missing if k.startswith('backbone.')]
        if total - len(not_set) < self.min_loaded * total:
            raise ValueError(
                f'{path}: load_from set {total - len(not_set)} of {total} tensors of '
                f'model.backbone; not loaded: {_first(not_set)}. The checkpoint\'s keys look like '
                f'{", ".join(list(state)[:3])}: load_from needs a checkpoint of this network '
                "and width (for part of the weights: the backbone's init_cfg Pretrained with "
                'a prefix)')
