"""Reading a config file and merging ``--cfg-options`` into it, with errors
that name the file or the option.

mmengine's ``Config.fromfile`` names neither the file nor its type for a file
of another kind (``OSError: Only py/yml/yaml/json type are supported now!``,
e.g. a model file passed where a config goes) and neither the file nor the
config for a syntax error (``'(' was never closed (<unknown>, line 1)``).
``Config.merge_from_dict`` sets a config file's own variable (``max_epochs``,
``data_root``, ``num_classes``) without a word, although the file used it
when it was read and nothing reads it afterwards: ``--cfg-options
max_epochs=2`` trains the file's 8 epochs.
"""
import difflib
import inspect
import json
import os.path as osp
from typing import Any, Dict, Iterator, Mapping, Optional, Tuple

from mmengine.config import Config
from mmengine.runner import Runner

from .config_types import registered_objects, type_name

__all__ = ['CONFIG_SUFFIXES', 'RUNTIME_KEYS', 'merge_options', 'read_config']

CONFIG_SUFFIXES = ('.py', '.json', '.yml', '.yaml')


def read_config(path: str, options: Optional[Dict] = None) -> Config:
    """``Config.fromfile(path)`` with ``options`` (``--cfg-options``) merged
    by :func:`merge_options`.

    Raises:
        FileNotFoundError: ``path`` (or a ``_base_`` file it names) does not
            exist.
        ValueError: ``path`` is not a config file (by its suffix) or does not
            parse, the message naming it; or :func:`merge_options` refuses an
            option.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file not found: {path}')
    if osp.splitext(path)[1] not in CONFIG_SUFFIXES:
        raise ValueError(f'{path}: not a config file (mmengine reads '
                         f'{", ".join(CONFIG_SUFFIXES)})')
    try:
        cfg = Config.fromfile(path)
    except SyntaxError as e:
        raise ValueError(f'{path} (or a _base_ file it names) does not parse: {e.msg}, line '
                         f'{e.lineno}') from e
    except json.JSONDecodeError as e:
        raise ValueError(f'{path} (or a _base_ file it names) does not parse: {e}') from e
    merge_options(cfg, options, path)
    return cfg


# The top-level keys a run reads from the built config: mmengine's Runner, the
# other keys of its from_cfg and train, and this package's sample_validation.
RUNTIME_KEYS = frozenset(inspect.signature(Runner.__init__).parameters) | {
    'runner_type', 'compile', 'model_wrapper_cfg', 'strategy', 'activation_checkpointing',
    'efficient_conv_bn_eval', 'sample_validation'}


def _leaves(value: Any, prefix: str = '') -> Iterator[Tuple[str, Any]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _leaves(item, f'{prefix}.{key}' if prefix else str(key))
    elif isinstance(value, (list, tuple)) and any(isinstance(v, Mapping) for v in value):
        for i, item in enumerate(value):
            yield from _leaves(item, f'{prefix}.{i}')
    else:
        yield prefix, value


def merge_options(cfg: Config, options: Optional[Dict], source: str = 'the config') -> None:
    """Merge ``--cfg-options`` into ``cfg`` (``Config.merge_from_dict``).

    Raises:
        ValueError: an option sets a variable of the config file that no run
            reads (not a dict or list, not in :data:`RUNTIME_KEYS`); the
            message names the keys that took its value by the same name.
    """
    for key in options or {}:
        if ('.' in key or key in RUNTIME_KEYS or key not in cfg
                or isinstance(cfg[key], (Mapping, list))):
            continue
        copies = [k for k, v in _leaves(cfg.to_dict())
                  if '.' in k and k.rsplit('.', 1)[1] == key and v == cfg[key]]
        where = (f'; set {", ".join(copies)} instead (and any other key built from it)'
                 if copies else '; set the keys that took its value instead')
        raise ValueError(f'--cfg-options {key}: {key} is a variable of {source}, used when the '
                         f'file was read and by nothing later, so this would change nothing'
                         f'{where}')
    for key in options or {}:
        _check_argument(cfg, key, options)
    if options:
        cfg.merge_from_dict(options)


# Keys that mmengine takes out of a typed dict before calling its type: the
# registry's, the optimizer wrapper builder's, the hook priority, init_cfg's override.
_BUILDER_KEYS = frozenset({'type', '_scope_', 'constructor', 'paramwise_cfg', 'priority',
                           'override'})


def _parent(cfg: Config, key: str) -> Any:
    """The dict or list the last part of ``key`` goes into; None where the
    path leaves the config (the option adds a new branch)."""
    node: Any = cfg
    parts = key.split('.')
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, (list, tuple)):
            if not part.isdigit() or int(part) >= len(node):
                where = '.'.join(parts[:i])
                raise ValueError(f'--cfg-options {key}: {where} is a list of {len(node)}; index '
                                 f'it from 0 to {len(node) - 1}, e.g. {where}.0.'
                                 f'{".".join(parts[i + part.isdigit():])}'.rstrip('.'))
            node = node if last else node[int(part)]
        elif not last:
            if not (isinstance(node, (Config, Mapping)) and part in node):
                return None
            node = node[part]
    return node


def _check_argument(cfg: Config, key: str, options: Mapping[str, Any]) -> None:
    """Refuse an option that adds an argument which the type of its dict
    (after ``options``, which may change it) does not take
    (``optim_wrapper.optimizer.lrr``): mmengine would merge it and the build
    would end in a ``TypeError``. Options on keys the file has, and types
    that take ``**kwargs`` or are not registered, pass."""
    parts = key.split('.')
    parent = _parent(cfg, key)
    leaf = parts[-1]
    if (not isinstance(parent, Mapping) or 'type' not in parent or leaf in parent
            or leaf in _BUILDER_KEYS):
        return
    kind = options.get('.'.join(parts[:-1] + ['type']), parent['type'])
    takes = []
    for obj in registered_objects(kind):
        try:
            params = inspect.signature(obj).parameters
        except (TypeError, ValueError):
            return
        if leaf in params or any(p.kind is p.VAR_KEYWORD for p in params.values()):
            return
        takes.extend(n for n, p in params.items() if p.kind is not p.VAR_POSITIONAL)
    if not takes:
        return
    close = difflib.get_close_matches(leaf, takes, n=1)
    hint = f'; did you mean {".".join(parts[:-1] + close)}?' if close else ''
    raise ValueError(f'--cfg-options {key}: {type_name(kind)} takes no argument '
                     f'{leaf!r}{hint} (it takes {", ".join(sorted(set(takes)))})')
