"""The one checkpoint loader of mnext-det.

Every path that reads a checkpoint (``create_model``, mmengine's ``--resume``,
``load_from`` and ``init_cfg=dict(type='Pretrained')`` once
:func:`mnext_det.compat.register_safe_checkpoint_loader` ran, the tools)
calls :func:`load_checkpoint_file`. It unpickles with ``weights_only=True``
and an explicit allow-list of the non-tensor objects that mmengine and the
authors' timm checkpoints store; anything else is refused. Trusted legacy
files can opt in to full unpickling with ``trusted=True`` or the environment
variable ``MNEXT_TRUSTED_CHECKPOINTS=1``.
"""
import argparse
import collections
import glob
import io
import os
import pickle
import struct
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch

from .identity_meta import check_identity_multiplier

__all__ = [
    'UnsafeCheckpointError', 'CorruptCheckpointError', 'safe_globals', 'read_last_checkpoint',
    'latest_checkpoint', 'require_checkpoint_file', 'load_checkpoint_file',
    'load_storage_bytes', 'extract_state_dict', 'CheckpointMismatchError', 'state_dict_mismatch',
    'load_state_dict_strict', 'check_checkpoint_fits', 'check_state_dict_fits',
    'checkpoint_layout_hint',
    'training_progress'
]

TRUST_ENV = 'MNEXT_TRUSTED_CHECKPOINTS'


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds objects outside the allow-list."""


class CorruptCheckpointError(ValueError):
    """A checkpoint file cannot be read (truncated, or not a checkpoint)."""


def safe_globals() -> List[Any]:
    """The non-tensor globals a checkpoint may reference."""
    allowed: List[Any] = [
        argparse.Namespace, collections.OrderedDict, collections.defaultdict,
        np.ndarray, np.dtype, np.core.multiarray._reconstruct,
        np.core.multiarray.scalar
    ]
    allowed += [type(np.dtype(t)) for t in (
        'bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16',
        'uint32', 'uint64', 'float16', 'float32', 'float64')]
    try:
        from mmengine.logging import HistoryBuffer
        from mmengine.config import ConfigDict
        allowed += [HistoryBuffer, ConfigDict, (_history_buffer_getattr, 'builtins.getattr')]
    except ImportError:
        pass
    return allowed


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """The only ``getattr`` a checkpoint may call: mmengine pickles each
    HistoryBuffer's statistics methods as ``getattr(HistoryBuffer, 'mean')``.
    Any other use is refused (a general getattr would reach arbitrary
    attributes of allow-listed objects)."""
    from mmengine.logging import HistoryBuffer
    allowed = {'min', 'max', 'current', 'mean'} | set(HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and name in allowed:
        return getattr(obj, name)
    raise UnsafeCheckpointError(
        f'getattr({getattr(obj, "__name__", type(obj).__name__)}, {name!r}) is not allowed '
        'in a checkpoint')


def _trusted(trusted: Optional[bool]) -> bool:
    return trusted if trusted is not None else os.environ.get(TRUST_ENV) == '1'


# What torch.load raises on bytes that are not a checkpoint (a text file, a
# truncated or overwritten one), besides an UnpicklingError: seen in 12,000 random
# corruptions of a small checkpoint (tests/test_checkpoint.py replays 600 seeded ones).
_CORRUPT = (RuntimeError, EOFError, KeyError, IndexError, ValueError, TypeError, AssertionError,
            struct.error)


def read_last_checkpoint(work_dir: str, required: bool = False) -> Optional[str]:
    """The checkpoint ``work_dir/last_checkpoint`` names (looked up in
    ``work_dir`` by its file name when the work dir was moved since), or
    None when that file is missing or empty.

    Raises:
        FileNotFoundError: with ``required``, instead of returning None, and
            when the named checkpoint does not exist; it names the file.
    """
    path = os.path.join(work_dir, 'last_checkpoint')
    ckpt = ''
    if os.path.isfile(path):
        with open(path) as f:
            ckpt = f.read().strip()
    if not ckpt:
        if required:
            raise FileNotFoundError(f'{path}: missing or empty, the run saved no checkpoint')
        return None
    moved = os.path.join(work_dir, os.path.basename(ckpt))
    if not os.path.isfile(ckpt) and os.path.isfile(moved):
        ckpt = moved
    if required and not os.path.isfile(ckpt):
        raise FileNotFoundError(f'{path} names {ckpt}, which does not exist')
    return ckpt


def training_progress(meta: Mapping, train_cfg: Mapping) -> Optional[Tuple[str, int, int]]:
    """``(unit, done, total)`` of a checkpoint's ``meta`` against a run's
    ``train_cfg``: ``('epoch', meta['epoch'], max_epochs)``, else the same
    with ``iter`` and ``max_iters``; None where neither pair is known."""
    for unit, key in (('epoch', 'max_epochs'), ('iter', 'max_iters')):
        done, total = meta.get(unit), train_cfg.get(key)
        if isinstance(done, int) and isinstance(total, int):
            return unit, done, total
    return None


def latest_checkpoint(folder: str) -> Optional[str]:
    """The checkpoint ``folder/last_checkpoint`` names
    (:func:`read_last_checkpoint`), else the folder's newest ``*.pth``, else
    None."""
    named = read_last_checkpoint(folder)
    if named is not None:
        return named
    found = glob.glob(os.path.join(folder, '*.pth'))
    return max(found, key=os.path.getmtime) if found else None


def require_checkpoint_file(filename: str) -> str:
    """``filename`` with ``~`` expanded, when it is a file.

    Raises:
        FileNotFoundError: it is not; for a folder (a work dir given for its
            checkpoint) the message names the checkpoint its
            ``last_checkpoint`` file names, or its newest ``.pth`` file.
    """
    path = os.path.expanduser(str(filename))
    if os.path.isfile(path):
        return path
    message = f'checkpoint file not found: {path}'
    if os.path.isdir(path):
        message += ' is a folder'
        latest = latest_checkpoint(path)
        if latest:
            message += f'; its latest checkpoint is {latest}'
    raise FileNotFoundError(message)


def load_checkpoint_file(filename: str,
                         map_location: Any = 'cpu',
                         trusted: Optional[bool] = None) -> Any:
    """Load a checkpoint without running code from it.

    Args:
        filename: Path of the ``.pth`` file.
        map_location: Passed to ``torch.load``. Default: ``'cpu'``.
        trusted: Unpickle without restriction (only for files you trust).
            Default: the ``MNEXT_TRUSTED_CHECKPOINTS`` environment variable.

    Raises:
        FileNotFoundError: ``filename`` is not a file
            (:func:`require_checkpoint_file`).
        CorruptCheckpointError: the file is truncated or not a checkpoint.
        UnsafeCheckpointError: the file references a global outside the
            allow-list (it could run code when unpickled).
    """
    filename = require_checkpoint_file(filename)
    if _trusted(trusted):
        return torch.load(filename, map_location=map_location, weights_only=False)
    try:
        with torch.serialization.safe_globals(safe_globals()):
            return torch.load(filename, map_location=map_location, weights_only=True)
    except _CORRUPT as e:
        reason = (str(e).splitlines() or [''])[0] or type(e).__name__
    except pickle.UnpicklingError as e:
        reason = _unpickling_reason(e)
        if any(w in reason.lower() for w in ('global', 'not allowed')):
            raise UnsafeCheckpointError(
                f'refused to load {filename}: it references objects outside the '
                f'allow-list of mnext_det.checkpoint and could run code on load '
                f'({reason}). If you trust this file, load it with '
                f'trusted=True or set {TRUST_ENV}=1.') from None
    # torch's reader errors ("PytorchStreamReader failed reading zip archive") name no
    # file; bad opcodes and truncated pickles are corruption, not an attack (_CORRUPT)
    raise CorruptCheckpointError(
        f'{filename}: not a readable checkpoint, truncated or corrupt ({reason})')


def load_storage_bytes(data: bytes) -> Any:
    """A tensor storage that plain pickle stored as ``torch.save`` bytes
    (``torch.storage._load_from_bytes``), read weights-only instead of with
    torch's unrestricted unpickler (used by :mod:`mnext_det.results_io`)."""
    return torch.load(io.BytesIO(data), map_location='cpu', weights_only=True)


def _unpickling_reason(error: Exception) -> str:
    # torch's message is long; keep what follows "WeightsUnpickler error:".
    text = str(error)
    if 'WeightsUnpickler error:' in text:
        text = text.split('WeightsUnpickler error:', 1)[1]
    text = ' '.join(text.split('Check the documentation')[0].split())
    return text.split('. Please use')[0] or type(error).__name__


def extract_state_dict(checkpoint: Any, filename: str = '<checkpoint>',
                       use_ema: bool = False) -> Dict[str, torch.Tensor]:
    """Return the model state dict of a loaded checkpoint.

    Accepts mmengine/this project's checkpoints (``state_dict`` + ``meta``),
    the authors' timm dicts (``state_dict``, optionally ``state_dict_ema``,
    taken when ``use_ema``) and plain state dicts; strips ``module.``.

    Raises:
        ValueError: not a dict of tensors, or ``use_ema`` without a timm
            ``state_dict_ema`` (an mmengine EMAHook checkpoint is named as such).
    """
    if not isinstance(checkpoint, Mapping):
        raise ValueError(f'{filename}: expected a dict checkpoint, got {type(checkpoint).__name__}')
    if use_ema:
        if 'ema_state_dict' in checkpoint:
            raise ValueError(f'{filename}: an mmengine EMAHook checkpoint, whose state_dict '
                             'already holds the EMA weights (ema_state_dict holds the raw '
                             'ones): load it without use_ema / --use-ema')
        if 'state_dict_ema' not in checkpoint:
            raise ValueError(f'{filename}: use_ema=True but there is no state_dict_ema '
                             f'(keys: {sorted(checkpoint)[:10]})')
        state = checkpoint['state_dict_ema']
    elif 'state_dict' in checkpoint:
        state = checkpoint['state_dict']
    elif 'model' in checkpoint and isinstance(checkpoint['model'], Mapping):
        state = checkpoint['model']
    else:
        state = checkpoint
    tensors = {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise ValueError(f'{filename}: no tensors found in the state dict')
    return {k[len('module.'):] if k.startswith('module.') else k: v
            for k, v in tensors.items()}


def _listed(count_title: str, keys: Sequence[str], limit: int = 8) -> str:
    more = ' ...' if len(keys) > limit else ''
    return f'{count_title} ({", ".join(keys[:limit])}{more})'


class CheckpointMismatchError(ValueError):
    """A checkpoint whose keys or shapes do not fit the model.

    ``missing`` and ``unexpected`` hold key names, ``misshaped`` one
    ``'key: checkpoint (..) vs model (..)'`` line per key; the message names
    the file and the model and lists the first keys of each kind."""

    def __init__(self, filename: str, model: str, missing: Sequence[str] = (),
                 unexpected: Sequence[str] = (), misshaped: Sequence[str] = (),
                 hint: str = '') -> None:
        self.filename, self.model = filename, model
        self.missing, self.unexpected = list(missing), list(unexpected)
        self.misshaped = list(misshaped)
        parts = [_listed(f'{len(keys)} {title}', keys)
                 for title, keys in (('missing keys', self.missing),
                                     ('unexpected keys', self.unexpected),
                                     ('shape mismatches', self.misshaped)) if keys]
        super().__init__(f'{filename} does not match {model}: {"; ".join(parts)}'
                         + (f'. {hint}' if hint else ''))


def state_dict_mismatch(own: Mapping[str, torch.Tensor], state: Mapping[str, torch.Tensor]
                        ) -> Tuple[List[str], List[str], List[str]]:
    """``(missing, unexpected, misshaped)`` keys of ``state`` against ``own``."""
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    misshaped = sorted(f'{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}'
                       for k in set(own) & set(state) if own[k].shape != state[k].shape)
    return missing, unexpected, misshaped


def checkpoint_layout_hint(state: Mapping[str, Any]) -> str:
    """What a state dict that does not fit a whole model looks like, and
    what takes it: a backbone alone (``extract_backbone.py``'s output) or
    the authors' classifier; empty for anything else."""
    tops = {k.split('.')[0] for k in state}
    if tops == {'features'}:
        return ('It holds a backbone alone (as tools/model_converters/extract_backbone.py '
                'writes): it initialises a backbone (init_cfg Pretrained without a prefix, or '
                'create_model(..., features_only=True)), not a whole model.')
    if tops == {'features', 'classifier'}:
        return ("It is laid out as the authors' classifier: for a detector run "
                'tools/model_converters/convert_official_ckpt.py first.')
    return ''


def load_state_dict_strict(model: torch.nn.Module,
                           state_dict: Mapping[str, torch.Tensor],
                           filename: str = '<checkpoint>',
                           key_filter: Optional[Callable[[Dict], Dict]] = None,
                           model_name: Optional[str] = None, hint: str = '') -> None:
    """Load ``state_dict`` into ``model``; raise :class:`CheckpointMismatchError`
    naming ``model_name`` (default: the class) and listing every missing,
    unexpected or wrongly shaped key, with ``hint``."""
    if key_filter is not None:
        state_dict = key_filter(dict(state_dict))
    missing, unexpected, misshaped = state_dict_mismatch(model.state_dict(), state_dict)
    if missing or unexpected or misshaped:
        raise CheckpointMismatchError(filename, model_name or type(model).__name__, missing,
                                      unexpected, misshaped, hint)
    model.load_state_dict(state_dict, strict=True)


def check_checkpoint_fits(model: torch.nn.Module, checkpoint: str,
                          hint: Optional[str] = None) -> None:
    """Refuse a checkpoint that would leave weights of ``model`` (EMA copies
    aside) uninitialised or misshaped; extra keys are allowed. ``hint``
    (default: :func:`checkpoint_layout_hint`) ends the message.

    mmengine loads ``load_from`` non-strictly and only warns, so a foreign
    checkpoint would otherwise silently evaluate random weights. A checkpoint
    recording another identity tensor multiplier than the model's MobileNeXt
    is refused too (:mod:`mnext_det.identity_meta`)."""
    ckpt = load_checkpoint_file(checkpoint)
    check_identity_multiplier(ckpt, model, checkpoint, "the config's model")
    state = extract_state_dict(ckpt, checkpoint)
    check_state_dict_fits(model, state, checkpoint,
                          checkpoint_layout_hint(state) if hint is None else hint)


def check_state_dict_fits(model: torch.nn.Module, state: Mapping[str, torch.Tensor],
                          filename: str, hint: str = '') -> None:
    """Raise :class:`CheckpointMismatchError`, naming ``filename``, when
    ``state`` (a loaded checkpoint's state dict) misses or misshapes a
    tensor of ``model`` (EMA copies aside); extra keys are allowed."""
    own = {k: v for k, v in model.state_dict().items() if not k.startswith('ema_')}
    missing, _, misshaped = state_dict_mismatch(own, state)
    if missing or misshaped:
        raise CheckpointMismatchError(filename, 'the config\'s model', missing, (), misshaped,
                                      hint)
