"""The values of a config that a run needs of a kind: numbers where the
config has numbers, whole positive batch sizes and schedule lengths.

``--cfg-options`` parses ``lr=abc`` as text and mmengine merges it: the run
then fails at the first arithmetic on it, far from the option (``Unknown
format code 'g' for object of type 'str'``, a numpy cast error for
``randomness.seed``). ``train_cfg.val_interval=0`` trains an epoch and ends in
``ZeroDivisionError``, ``train_cfg.max_epochs=0`` trains nothing and exits 0,
and ``batch_size=0`` gets torch's message without the loader's name.
"""
from typing import Any, Mapping, Tuple, Union

from mmengine.config import Config

__all__ = ['check_option_value', 'check_run_values']

# (key, least value) of whole numbers a run divides or counts by
_WHOLE_NUMBERS: Tuple[Tuple[str, int], ...] = (
    ('train_dataloader.batch_size', 1), ('val_dataloader.batch_size', 1),
    ('test_dataloader.batch_size', 1), ('train_dataloader.num_workers', 0),
    ('val_dataloader.num_workers', 0), ('test_dataloader.num_workers', 0),
    ('train_cfg.max_epochs', 1), ('train_cfg.max_iters', 1), ('train_cfg.val_interval', 1))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _lookup(cfg: Union[Config, Mapping], key: str) -> Tuple[bool, Any]:
    """``(True, value)`` of the dotted ``key`` (list parts by index), or
    ``(False, None)`` where the config does not have it."""
    node: Any = cfg
    for part in key.split('.'):
        if isinstance(node, (Config, Mapping)) and part in node:
            node = node[part]
        elif isinstance(node, (list, tuple)) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def check_option_value(cfg: Union[Config, Mapping], key: str, value: Any, source: str) -> None:
    """Refuse the option ``key=value`` where it puts text in place of the
    number or the true/false that ``source`` sets there.

    Raises:
        ValueError: naming the option, the file's value and what to give.
    """
    found, old = _lookup(cfg, key)
    if not found or not isinstance(value, str):
        return
    if _is_number(old):
        raise ValueError(f'--cfg-options {key}={value}: {source} sets {key} to the number '
                         f'{old!r}, and {value!r} is not a number')
    if isinstance(old, bool):
        raise ValueError(f'--cfg-options {key}={value}: {source} sets {key} to {old}; give '
                         'True or False')


def check_run_values(cfg: Union[Config, Mapping], source: str) -> None:
    """Refuse batch sizes, worker counts, epochs, iterations and validation
    intervals that are not whole numbers of at least their least value
    (0 workers, else 1), and a ``randomness.seed`` that is not a whole number.

    Raises:
        ValueError: naming the key and its value.
    """
    for key, least in _WHOLE_NUMBERS:
        found, value = _lookup(cfg, key)
        if found and value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value < least):
            raise ValueError(f'{key} is {value!r} (in {source} or --cfg-options); it must be a '
                             f'whole number of at least {least}')
    found, seed = _lookup(cfg, 'randomness.seed')
    if found and seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise ValueError(f'randomness.seed is {seed!r} (in {source} or --cfg-options); it must '
                         'be a whole number, or None for a random one')
