"""Reading a config file and merging ``--cfg-options`` into it, with errors
that name the file or the option.

mmengine's ``Config.fromfile`` names neither the file nor its type for a file
of another kind (``OSError: Only py/yml/yaml/json type are supported now!``,
e.g. a model file passed where a config goes) and neither the file nor the
config for a syntax error (``'(' was never closed (<unknown>, line 1)``).
``Config.merge_from_dict`` sets a config file's own variable (``max_epochs``,
``data_root``, ``num_classes``) without a word, although the file used it
when it was read and nothing reads it afterwards: ``--cfg-options
max_epochs=2`` trains the file's 8 epochs. It also adds any new key, and
a misspelt top-level one (``laod_from``) or one of a model's ``test_cfg``
(``score_thresh`` for ``score_thr``) runs without a word; so does a file
that sets mmdet 2.x keys (``optimizer = dict(lr=0.01)``, ``total_epochs``).
"""
import difflib
import importlib
import inspect
import json
import os.path as osp
import warnings
from typing import Any, Dict, Iterator, List, Mapping, Optional, Set, Tuple

from mmengine.config import Config
from mmengine.runner import Runner

from .config_mmdet2 import mmdet3_key, refuse_mmdet2_keys
from .config_types import keyword_arguments, run_cfg_keys, type_name
from .config_values import check_option_value, check_run_values
from .config_variables import UnreachedVariableWarning, unreached_variables

__all__ = ['CONFIG_SUFFIXES', 'RUNTIME_KEYS', 'merge_options', 'read_config']

CONFIG_SUFFIXES = ('.py', '.json', '.yml', '.yaml')


def read_config(path: str, options: Optional[Dict] = None) -> Config:
    """``Config.fromfile(path)`` with ``options`` (``--cfg-options``) merged
    by :func:`merge_options`.

    Raises:
        FileNotFoundError: ``path`` (or a ``_base_`` file it names) does not
            exist.
        ValueError: ``path`` is not a config file (by its suffix), does not
            parse or sets a dict where its base has another kind of value
            (mmengine's ``TypeError``), the message naming it; it sets mmdet 2.x keys that nothing
            reads (:func:`~mnext_det.config_mmdet2.refuse_mmdet2_keys`); or
            :func:`merge_options` refuses an option.

    Warns:
        UnreachedVariableWarning: ``path`` sets a variable that a base file
            had used for keys a run reads, and does not set those keys again
            (``max_epochs = 12`` alone trains the base's epochs;
            :mod:`~mnext_det.config_variables`).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file not found: {path}')
    if osp.splitext(path)[1] not in CONFIG_SUFFIXES:
        raise ValueError(f'{path}: not a config file (mmengine reads '
                         f'{", ".join(CONFIG_SUFFIXES)})')
    try:
        cfg = Config.fromfile(path)
    except FileNotFoundError as e:
        missing = osp.normpath(e.filename) if e.filename else str(e)
        raise FileNotFoundError(
            f'{path}: a _base_ file it reads is not there: {missing} (a relative _base_ is read '
            'from the folder of the file that names it, so a copy of one of our configs made '
            'in another folder needs its _base_ as a full path, e.g. '
            "'/path/to/mnext-det/configs/ssdlite/ssdlite_mobilenext-100-in1k-pre_8xb24-600e_"
            "coco.py')") from None
    except SyntaxError as e:
        raise ValueError(f'{path} (or a _base_ file it names) does not parse: {e.msg}, line '
                         f'{e.lineno}') from e
    except json.JSONDecodeError as e:
        raise ValueError(f'{path} (or a _base_ file it names) does not parse: {e}') from e
    except TypeError as e:
        if 'cannot inherit from base' not in str(e):
            raise
        raise ValueError(f'{path} does not merge with its _base_ files: {e}') from e
    refuse_mmdet2_keys(cfg, path)
    if path.endswith('.py'):
        for line in unreached_variables(path, RUNTIME_KEYS):
            warnings.warn(f'{path}: {line}; set them in {path} too, or the run keeps the base '
                          'file\'s values', UnreachedVariableWarning, stacklevel=2)
    merge_options(cfg, options, path)
    return cfg


# The top-level keys a run reads from the built config: mmengine's Runner, the
# other keys of its from_cfg and train, this package's sample_validation and
# the test-time augmentation of tools/test.py --tta.
RUNTIME_KEYS = frozenset(inspect.signature(Runner.__init__).parameters) | {
    'runner_type', 'compile', 'model_wrapper_cfg', 'strategy', 'activation_checkpointing',
    'efficient_conv_bn_eval', 'sample_validation', 'tta_model', 'tta_pipeline'}


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
            Or an option adds a key that nothing reads, or indexes a list
            by name or past its end (``_check_argument``), or puts text
            where the file has a number; or the merged config has a batch
            size, epoch count or validation interval that is not a whole
            number of at least 1 (:mod:`~mnext_det.config_values`).
    """
    for key in options or {}:
        if ('.' in key or key in RUNTIME_KEYS or key not in cfg
                or isinstance(cfg[key], (Mapping, list))):
            continue
        leaves = list(_leaves(cfg.to_dict()))
        copies = [k for k, v in leaves
                  if '.' in k and k.rsplit('.', 1)[1] == key and v == cfg[key]]
        value = cfg[key]
        built = [k for k, v in leaves if isinstance(value, str) and value and isinstance(v, str)
                 and v != value and v.startswith(value)]  # e.g. data_root + 'annotations/...'
        where = (f'; set {", ".join(copies)} instead' if copies else
                 '; set the keys that took its value instead')
        if built:
            where += f', and the keys built from it: {", ".join(built)}'
        elif copies:
            where += ' (and any other key built from it)'
        raise ValueError(f'--cfg-options {key}: {key} is a variable of {source}, used when the '
                         f'file was read and by nothing later, so this would change nothing'
                         f'{where}')
    for key, value in (options or {}).items():
        _check_argument(cfg, key, options, source)
        check_option_value(cfg, key, value, source)
    if options:
        cfg.merge_from_dict(options)
    check_run_values(cfg, source)


# Keys that are taken out of a typed dict before its type is called: the
# registry's, the optimizer wrapper builder's, the hook priority, init_cfg's
# override, the param scheduler builder's epoch-to-iteration switch, DETR
# heads' loss_cls bg_cls_weight (found over mmdet's shipped configs), and the
# merge's _delete_ (replace the dict instead of merging into it).
_BUILDER_KEYS = frozenset({'type', '_scope_', 'constructor', 'paramwise_cfg', 'priority',
                           'override', 'convert_to_iter_based', 'bg_cls_weight', '_delete_'})


def _first_new(cfg: Config, key: str) -> Optional[Tuple[List[Any], int]]:
    """The dicts and lists along ``key`` down to the dict that lacks a part of
    it (``cfg`` first, that dict last), and the index of the first part it
    lacks; None where ``key`` is in the config already or goes through a
    value that is not a dict (the option replaces it)."""
    nodes: List[Any] = [cfg]
    parts = key.split('.')
    for i, part in enumerate(parts):
        node = nodes[-1]
        if isinstance(node, (list, tuple)):
            if not part.isdigit() or int(part) >= len(node):
                where = '.'.join(parts[:i])
                raise ValueError(f'--cfg-options {key}: {where} is a list of {len(node)}; index '
                                 f'it from 0 to {len(node) - 1}, e.g. {where}.0.'
                                 f'{".".join(parts[i + part.isdigit():])}'.rstrip('.'))
            nodes.append(node[int(part)])
        elif isinstance(node, (Config, Mapping)):
            if part not in node:
                return nodes, i
            nodes.append(node[part])
        else:
            return None
    return None


# Untyped top-level dicts and the keys mmengine's Runner reads from them with
# ``.get`` (``setup_env``, ``scale_lr``) or passes on (``set_randomness``): a
# misspelt key there is read by nothing.
_UNTYPED_ARGS = {
    'env_cfg': ('cudnn_benchmark', 'mp_cfg', 'dist_cfg', 'resource_limit'),
    'auto_scale_lr': ('enable', 'base_batch_size'),
    'randomness': tuple(inspect.signature(Runner.set_randomness).parameters)[1:],
}


# A model's train_cfg and test_cfg: untyped dicts that the model and its parts
# read key by key (config_types.run_cfg_keys). mmdet 2.x's train_cfg.debug,
# still in many mmdet 3 configs, is read by nothing: a file may have it.
_RUN_CFGS = ('train_cfg', 'test_cfg')
_UNREAD_RUN_CFG_KEYS = frozenset({'debug'})


def _run_cfg_readers(owner: Mapping[str, Any], path: str,
                     options: Mapping[str, Any]) -> List[Any]:
    """The types of the model ``owner`` at ``path`` and of its typed parts
    (backbone, heads, ...), after ``options``: what reads its run configs."""
    return [options.get(f'{path}.type', owner['type'])] + [
        options.get(f'{path}.{k}.type', v['type']) for k, v in owner.items()
        if isinstance(v, Mapping) and 'type' in v]


# Types that build the typed dicts inside them from a module, not a registry:
# TorchvisionTransforms, torchvision's transforms by their class names.
_BUILDER_MODULES = {'TorchvisionTransforms': 'torchvision.transforms.v2'}


# A run config's ``nms`` dict: mmcv's batched_nms (through mmdet's
# multiclass_nms) takes out its own keys and calls the function of
# mmcv.ops.nms that the type names with the others, after boxes and scores.
_NMS_MODULE = 'mmcv.ops.nms'
_BATCHED_NMS_KEYS = frozenset({'class_agnostic', 'split_thr'})


def _nms_arguments(kind: Any) -> Optional[Set[str]]:
    """What an ``nms`` dict of type ``kind`` may hold, or None where its type
    is not a function of mmcv.ops.nms."""
    fn = getattr(importlib.import_module(_NMS_MODULE), type_name(kind), None)
    if not inspect.isfunction(fn):
        return None
    return set(list(inspect.signature(fn).parameters)[2:]) | _BATCHED_NMS_KEYS


def _builder_module(ancestors: List[Any]) -> Optional[str]:
    """The module that builds a dict below ``ancestors`` when one of them is
    of one of :data:`_BUILDER_MODULES`' types, else None."""
    return next((_BUILDER_MODULES[type_name(n['type'])] for n in ancestors
                 if isinstance(n, Mapping) and type_name(n.get('type')) in _BUILDER_MODULES),
                None)


def _check_argument(cfg: Config, key: str, options: Mapping[str, Any], source: str) -> None:
    """Refuse an option that adds a key nothing reads: a top-level key that
    is neither in the config nor in :data:`RUNTIME_KEYS` (``laod_from``:
    mmengine would merge it and train without the weights), a key of
    ``env_cfg``, ``auto_scale_lr`` or ``randomness`` that the Runner does not
    read (``auto_scale_lr.enabel``), a key of a model's ``train_cfg`` or
    ``test_cfg`` that neither it nor its parts read
    (``model.test_cfg.score_thresh``: the file's ``score_thr`` would filter,
    unchanged), an entry without a type among typed ones
    (``default_hooks.chekpoint.interval``), an ``nms`` dict's key that its
    mmcv.ops.nms function does not take, or an argument that the type of
    its dict (after ``options``, which may change it) does not take
    (``optim_wrapper.optimizer.lrr``: the build would end in a ``TypeError``;
    ``**kwargs`` that a class hands to its parent count as the parent's
    arguments). Types that take any ``**kwargs`` or are not registered pass."""
    found = _first_new(cfg, key)
    if found is None:
        return
    nodes, i = found
    node = nodes[-1]
    parts = key.split('.')
    new, where = parts[i], '.'.join(parts[:i])
    if i == 0:
        if new in RUNTIME_KEYS:
            return
        close = difflib.get_close_matches(new, sorted(RUNTIME_KEYS | set(cfg)), n=1)
        hint = f'; did you mean {close[0]}?' if close else ''
        moved = mmdet3_key(key)
        if moved:
            hint = f'; mmdet 2.x\'s {key} is {moved} in mmdet 3'
        raise ValueError(f'--cfg-options {key}: {source} has no key {new!r} and no run reads '
                         f'one (not an argument of mmengine\'s Runner), so this would change '
                         f'nothing{hint}')
    owner = nodes[-2] if len(nodes) > 2 else None
    if where in _UNTYPED_ARGS and 'type' not in node:
        takes, verb = list(_UNTYPED_ARGS[where]), 'it reads'
        what = f"mmengine's Runner reads no {where}.{new}"
    elif (parts[i - 1] in _RUN_CFGS and 'type' not in node and isinstance(owner, Mapping)
          and 'type' in owner):
        readers = _run_cfg_readers(owner, '.'.join(parts[:i - 1]), options)
        takes = run_cfg_keys(readers, parts[i - 1])
        # a key of the file that none of them reads: read somewhere this does not see
        if not takes or set(node) - takes - _UNREAD_RUN_CFG_KEYS:
            return
        verb = 'they read'
        what = f'{type_name(readers[0])} and its parts read no {parts[i - 1]}.{new}'
    elif 'type' not in node:
        typed = [k for k, v in node.items() if isinstance(v, Mapping) and 'type' in v]
        if (i == len(parts) - 1 or not typed or len(typed) < len(node)
                or f'{where}.{new}.type' in options):
            return
        close = difflib.get_close_matches(new, typed, n=1)
        hint = f'; did you mean {where}.{close[0]}?' if close else ''
        raise ValueError(f'--cfg-options {key}: {where} has no entry {new!r} and this one would '
                         f'have no type (its entries: {", ".join(typed)}){hint}')
    else:
        if new in _BUILDER_KEYS:
            return
        kind = options.get(f'{where}.type', node['type'])
        module = _builder_module(nodes[1:-1])
        if module is not None:
            kind = getattr(importlib.import_module(module), type_name(kind), None)
        accepted = _nms_arguments(kind) if parts[i - 1] == 'nms' else keyword_arguments(kind)
        # a key of the file that it does not know: the type is another one of
        # that name, built some way this does not follow
        if accepted is None or (f'{where}.type' not in options
                            and set(node) - accepted - _BUILDER_KEYS):
            return
        takes, verb = list(accepted), 'it takes'
        what = f'{type_name(kind)} takes no argument {new!r}'
    if new in takes:
        return
    close = difflib.get_close_matches(new, takes, n=1)
    hint = f'; did you mean {where}.{close[0]}?' if close else ''
    raise ValueError(f'--cfg-options {key}: {what}{hint} ({verb} '
                     f'{", ".join(sorted(set(takes))) or "no arguments"})')
