"""``RandomStateHook``: random number generator state in checkpoints."""
import random
from typing import Any, Dict, Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

__all__ = ['RandomStateHook', 'get_random_state', 'set_random_state']

KEY = 'random_state'


def get_random_state() -> Dict[str, Any]:
    """Python, NumPy, torch (and CUDA) generator states of this process."""
    state = dict(python=random.getstate(), numpy=np.random.get_state(),
                 torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_random_state(state: Dict[str, Any]) -> None:
    """Restore what :func:`get_random_state` returned."""
    random.setstate(_tuples(state['python']))
    np.random.set_state(_tuples(state['numpy']))
    torch.set_rng_state(state['torch'].cpu())
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state['cuda']])


def _tuples(value: Any) -> Any:
    # Checkpoints may turn tuples into lists; the setters need tuples.
    if isinstance(value, (list, tuple)):
        return tuple(_tuples(v) for v in value)
    return value


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Save the generator states (of rank 0) with every checkpoint and
    restore them when training resumes, so dropout and data augmentation
    continue the sequence an uninterrupted run would draw from that point.

    mmengine itself stores only the seed. A resumed run matches an
    uninterrupted one exactly when nothing draws random numbers between the
    save and the next training iteration (validation right after a save
    does, e.g. when its dataloader starts).
    """

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._pending: Optional[Dict[str, Any]] = None

    def before_save_checkpoint(self, runner, checkpoint: Dict) -> None:
        checkpoint[KEY] = get_random_state()

    def after_load_checkpoint(self, runner, checkpoint: Dict) -> None:
        # Applied in before_train: Runner.resume may re-seed after loading.
        self._pending = checkpoint.get(KEY)

    def before_train(self, runner) -> None:
        if self._pending is not None and runner._has_loaded and runner._resume:
            set_random_state(self._pending)
            runner.logger.info('restored random generator states from the checkpoint')
        self._pending = None
