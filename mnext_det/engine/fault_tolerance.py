"""One call that makes a training config fault tolerant (used by tools/train.py)."""
from typing import List

from mmengine.config import Config

from ..config_types import type_name
from ..datasets import dataset_wrappers  # noqa: F401 (registers ValidatedDataset)
from .distributed import configure_cpu_distributed
from .pretrained_check import has_pretrained_init

__all__ = ['apply_fault_tolerance']

_PLAIN_CHECKPOINT_HOOKS = ('CheckpointHook', 'mmengine.CheckpointHook')


def apply_fault_tolerance(cfg: Config) -> List[str]:
    """Update ``cfg`` in place and return a line per change:

    - ``default_hooks.checkpoint``: mmengine's ``CheckpointHook`` becomes
      :class:`SafeCheckpointHook` (same arguments);
    - ``custom_hooks``: :class:`RandomStateHook`, :class:`EmptyEpochCheckHook`
      and :class:`NonFiniteLossHook` (``action='stop'``) are added unless present,
      and :class:`PretrainedCheckHook` when the model has a ``Pretrained``
      ``init_cfg`` or the config a ``load_from``;
    - ``train_dataloader.dataset`` is wrapped in :class:`ValidatedDataset`
      with the arguments of ``cfg.sample_validation`` (default
      ``dict(on_error='raise')``; ``sample_validation=None`` turns it off);
    - without CUDA and with a launcher: gloo and the CPU-aware DDP wrapper.
    """
    changes = []
    hooks = cfg.get('default_hooks') or {}
    ckpt = hooks.get('checkpoint')
    if ckpt is not None and ckpt.get('type') in _PLAIN_CHECKPOINT_HOOKS:
        ckpt['type'] = 'SafeCheckpointHook'
        changes.append('default_hooks.checkpoint: CheckpointHook -> SafeCheckpointHook')
    custom = list(cfg.get('custom_hooks') or [])
    bad = [h for h in custom if not isinstance(h, dict) or 'type' not in h]
    if bad:
        raise ValueError(f'custom_hooks: every entry must be a dict with a type, got {bad[0]!r} '
                         '(--cfg-options turns "[dict(...)]" into strings: set custom_hooks '
                         'in a config file)')
    present = {type_name(h.get('type')) for h in custom}
    wanted = ['RandomStateHook', 'EmptyEpochCheckHook', 'NonFiniteLossHook']
    if has_pretrained_init(cfg.get('model')) or cfg.get('load_from'):
        wanted.append('PretrainedCheckHook')
    for name in wanted:
        if name not in present:
            custom.append(dict(type=name))
            changes.append(f'custom_hooks: added {name}')
    cfg.custom_hooks = custom
    validation = cfg.get('sample_validation', {})
    loader = cfg.get('train_dataloader') or {}
    dataset = loader.get('dataset')
    if (validation is not None and validation is not False and dataset is not None
            and type_name(dataset.get('type')) != 'ValidatedDataset'):
        loader['dataset'] = dict(type='ValidatedDataset', dataset=dataset, **validation)
        changes.append('train_dataloader.dataset wrapped in ValidatedDataset'
                       f'({", ".join(f"{k}={v!r}" for k, v in validation.items())})')
    return changes + configure_cpu_distributed(cfg)
