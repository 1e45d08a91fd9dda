"""Check that ``init_cfg=dict(type='Pretrained', ...)`` loaded what it names.

mmengine's ``PretrainedInit`` loads non-strictly: a checkpoint whose keys miss
the module's (no ``prefix`` where one is needed, another network or width)
leaves those tensors at their random init, logs a warning among hundreds of
lines and trains on (mmpretrain#462, mmdetection#5184). Before the first
step :class:`PretrainedCheckHook` compares every such module's tensors with
the checkpoint's, logs ``N of M tensors of <module> loaded from <file>`` and
stops the run when fewer than ``min_loaded`` of them hold the checkpoint's
values. A checkpoint that records another identity tensor multiplier than the
module's MobileNeXt stops it too (:mod:`mnext_det.identity_meta`).
"""
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ..checkpoint import extract_state_dict, load_checkpoint_file
from ..config_types import type_name
from ..identity_meta import check_identity_multiplier
from .unwrap import unwrap_model

__all__ = ['PretrainedCheckHook', 'pretrained_inits', 'loaded_tensors', 'has_pretrained_init']


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


@HOOKS.register_module()
class PretrainedCheckHook(Hook):
    """Before training, check each ``Pretrained`` init (see the module doc).

    Skipped when the run resumes or has ``load_from`` (the checkpoint then
    sets every weight).

    Args:
        min_loaded: Fraction of a module's tensors (parameters and buffers)
            that must hold the checkpoint's values. Default: 1.0.
    """

    priority = 'VERY_HIGH'

    def __init__(self, min_loaded: float = 1.0) -> None:
        if not 0 < min_loaded <= 1:
            raise ValueError(f'PretrainedCheckHook: min_loaded must be in (0, 1], got {min_loaded}')
        self.min_loaded = min_loaded

    def before_train(self, runner) -> None:
        if runner._has_loaded:
            return
        model = unwrap_model(runner.model)
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
                    f'{total} tensors of {where}; not loaded: {", ".join(missing[:5])}'
                    f'{" ..." if len(missing) > 5 else ""}. The checkpoint\'s keys look like '
                    f'{", ".join(list(state)[:3])}: check the prefix (e.g. \'backbone.\' for a '
                    'pretraining checkpoint) and that it is this network and width')
