"""The identity tensor multiplier of a checkpoint: recorded when saved, checked when loaded.

A MobileNeXt with a partial identity shortcut (``identity_tensor_multiplier``
below 1) has exactly the tensors, names and shapes of one with the full
shortcut, so its weights load into the other without a warning and compute
another network (yitu-opensource/MobileNeXt#1: a half-identity checkpoint gave
69.2 % top-1 in a full-identity model). Checkpoints written by this project
(``SafeCheckpointHook``, the converters) record the multiplier in
``meta['identity_tensor_multiplier']``; ``create_model``, ``tools/test.py`` and
``PretrainedCheckHook`` refuse a checkpoint whose recorded multiplier differs
from the model's. Checkpoints without the record (the authors', plain state
dicts) load as before.
"""
import math
from typing import Any, Mapping, Optional

import torch

__all__ = ['IDENTITY_META_KEY', 'IdentityMultiplierMismatchError', 'model_identity_multiplier',
           'recorded_identity_multiplier', 'check_identity_multiplier']

IDENTITY_META_KEY = 'identity_tensor_multiplier'


class IdentityMultiplierMismatchError(ValueError):
    """A checkpoint recorded for another identity tensor multiplier than the model's."""


def model_identity_multiplier(module: torch.nn.Module) -> Optional[float]:
    """The identity tensor multiplier of the MobileNeXts in ``module`` (its
    EMA copy included); None without one, and None when they differ, which
    one record cannot describe (nothing is recorded or checked then)."""
    values = {float(m.identity_tensor_multiplier) for m in module.modules()
              if hasattr(m, IDENTITY_META_KEY)}
    return values.pop() if len(values) == 1 else None


def recorded_identity_multiplier(checkpoint: Any) -> Optional[float]:
    """``meta['identity_tensor_multiplier']`` of a loaded checkpoint, or None."""
    meta = checkpoint.get('meta') if isinstance(checkpoint, Mapping) else None
    value = meta.get(IDENTITY_META_KEY) if isinstance(meta, Mapping) else None
    return None if value is None else float(value)


def check_identity_multiplier(checkpoint: Any, module: torch.nn.Module, filename: str,
                              where: str = 'the model') -> None:
    """Raise :class:`IdentityMultiplierMismatchError`, naming ``filename``,
    ``where`` and both values, when the loaded ``checkpoint`` records another
    identity tensor multiplier than ``module``'s MobileNeXt."""
    recorded = recorded_identity_multiplier(checkpoint)
    own = model_identity_multiplier(module)
    if recorded is None or own is None or math.isclose(recorded, own, rel_tol=1e-6):
        return
    raise IdentityMultiplierMismatchError(
        f'{filename} was saved from a MobileNeXt with identity_tensor_multiplier {recorded:g}, '
        f'{where} has {own:g}: the weights fit (same tensors) but compute another network; '
        f'build it with identity_tensor_multiplier={recorded:g}')
