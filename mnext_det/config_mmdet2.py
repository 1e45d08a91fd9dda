"""mmdet 2.x config keys and where mmdet 3 keeps what they set.

mmdet 2.x (mmcv's runner) read ``optimizer``, ``lr_config``, ``total_epochs``,
``data.samples_per_gpu``, ...; mmengine's Runner reads none of them, and
``Config`` keeps such keys without a word, so a file or an option that sets
one trains with the base file's values. :func:`mmdet3_key` names the mmdet 3
place of an option's key; :func:`refuse_mmdet2_keys` refuses a file that
sets them.
"""
from typing import Any, Iterator, Mapping, Optional

from mmengine.config import Config

__all__ = ['MMDET2_KEYS', 'mmdet3_key', 'refuse_mmdet2_keys']

# From mmengine's "Migrate Runner from MMCV to MMEngine" and mmdet's "Migrate
# configs from MMDetection 2.x". A value that is a key path takes the rest of
# the option's key (data.train.ann_file -> train_dataloader.dataset.ann_file).
MMDET2_KEYS = {
    'total_epochs': 'train_cfg.max_epochs',
    'runner.max_epochs': 'train_cfg.max_epochs',
    'runner.max_iters': "train_cfg.max_iters with train_cfg.type='IterBasedTrainLoop'",
    'evaluation.interval': 'train_cfg.val_interval',
    'evaluation.metric': 'val_evaluator.metric',
    'evaluation.save_best': 'default_hooks.checkpoint.save_best',
    'data.samples_per_gpu': 'train_dataloader.batch_size',
    'data.imgs_per_gpu': 'train_dataloader.batch_size',
    'data.workers_per_gpu': 'train_dataloader.num_workers',
    'data.train': 'train_dataloader.dataset',
    'data.val': 'val_dataloader.dataset',
    'data.test': 'test_dataloader.dataset',
    'optimizer': 'optim_wrapper.optimizer',
    'optimizer_config.grad_clip': 'optim_wrapper.clip_grad',
    'lr_config': 'param_scheduler, a list of schedulers (e.g. param_scheduler.0.end)',
    'checkpoint_config': 'default_hooks.checkpoint',
    'log_config.interval': 'default_hooks.logger.interval',
    'seed': 'randomness.seed',
    'deterministic': 'randomness.deterministic',
    'dist_params': 'env_cfg.dist_cfg',
    'opencv_num_threads': 'env_cfg.mp_cfg.opencv_num_threads',
    'mp_start_method': 'env_cfg.mp_cfg.mp_start_method',
    'resume_from': 'tools/train.py --resume CKPT',
    'fp16': 'tools/train.py --amp',
    'gpu_ids': "the launcher's process count (tools/dist_train.sh CONFIG GPUS)",
    'workflow': 'train_cfg.val_interval (validation runs in a loop of its own)',
}
_TOP_KEYS = frozenset(k.split('.')[0] for k in MMDET2_KEYS)


def mmdet3_key(key: str) -> Optional[str]:
    """Where mmdet 3 keeps what the mmdet 2.x key ``key`` sets, or None."""
    parts = key.split('.')
    for n in range(len(parts), 0, -1):
        new = MMDET2_KEYS.get('.'.join(parts[:n]))
        if new is not None:
            rest = '.'.join(parts[n:])
            return f'{new}.{rest}' if rest and ' ' not in new else new
    return None


def _nodes(value: Any) -> Iterator[Any]:
    """``value`` and every dict, list and value inside it."""
    yield value
    items = value.values() if isinstance(value, Mapping) else (
        value if isinstance(value, (list, tuple)) else ())
    for item in items:
        yield from _nodes(item)


def refuse_mmdet2_keys(cfg: Config, path: str) -> None:
    """Refuse a config whose top-level keys hold mmdet 2.x settings
    (``optimizer = dict(lr=0.01)``, ``total_epochs = 12``), naming where each
    one goes; a key whose value the file also uses elsewhere is a variable
    and passes.

    Raises:
        ValueError: naming ``path`` and each such key with its mmdet 3 place.
    """
    content = cfg.to_dict()
    found = []
    for key in sorted(set(content) & _TOP_KEYS):
        value = content[key]
        others = [v for k, item in content.items() if k != key for v in _nodes(item)]
        if any(type(v) is type(value) and v == value for v in others):
            continue
        subkeys = ([f'{key}.{k}' for k in value if k != '_delete_']
                   if isinstance(value, Mapping) else [key])
        found += [f'{k} ({mmdet3_key(k) or "no place in mmdet 3"})' for k in subkeys]
    if found:
        raise ValueError(f'{path}: mmdet 2.x settings that nothing reads in mmdet 3, so the run '
                         f'would ignore them: {"; ".join(found)}; set them there instead')
