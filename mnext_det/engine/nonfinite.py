"""``NonFiniteLossHook``: stop (or skip the step) when the loss is NaN/inf."""
import functools
from typing import Any, Dict, List, Optional

import torch
import torch.distributed as torch_dist
from mmengine.dist import is_distributed
from mmengine.hooks import Hook
from mmengine.optim import AmpOptimWrapper, OptimWrapper, OptimWrapperDict
from mmengine.registry import HOOKS

from ..checkpoint import read_last_checkpoint
from .checkpoint_hook import NO_CHECKPOINT

__all__ = ['NonFiniteLossHook', 'NonFiniteLossError']


class NonFiniteLossError(FloatingPointError):
    """Training stopped because a loss became NaN or infinite."""


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Guard the optimizer against NaN/inf losses.

    Before each optimizer update the total loss is checked (on all ranks
    together, so distributed ranks take the same decision), and before each
    ``step`` the gradients (already averaged across ranks). A non-finite
    loss or gradient never reaches the weights, so the weights in memory
    stay those of the last good iteration. Then:

    - ``action='stop'`` (default): raise :class:`NonFiniteLossError` naming
      the epoch, iteration and every loss term, before any hook can save a
      checkpoint; the last checkpoint on disk stays the last good one.
    - ``action='skip'``: drop the update, log a warning with the loss terms
      and count it (``train/nonfinite_skipped`` in the log); stop anyway after
      ``max_consecutive_skips`` non-finite iterations in a row.

    Args:
        action: ``'stop'`` or ``'skip'``. Default: ``'stop'``.
        max_consecutive_skips: Limit for ``'skip'``. Default: 10.
        check_grads: Also check gradients (not with ``AmpOptimWrapper``,
            whose loss scaler does that). Default: True.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, action: str = 'stop', max_consecutive_skips: int = 10,
                 check_grads: bool = True) -> None:
        if action not in ('stop', 'skip'):
            raise ValueError(f"NonFiniteLossHook: action must be 'stop' or 'skip', got {action!r}")
        if max_consecutive_skips < 1:
            raise ValueError('NonFiniteLossHook: max_consecutive_skips must be >= 1, '
                             f'got {max_consecutive_skips}')
        self.action = action
        self.max_consecutive_skips = max_consecutive_skips
        self.skipped = 0
        self._consecutive = 0
        self.check_grads = check_grads
        self._tripped = ''
        self._names: Dict[int, str] = {}

    def before_train(self, runner) -> None:
        self._names = {id(p): n.replace('module.', '', 1) if n.startswith('module.') else n
                       for n, p in runner.model.named_parameters()}
        wrappers = runner.optim_wrapper
        for wrapper in (wrappers.values() if isinstance(wrappers, OptimWrapperDict)
                        else [wrappers]):
            if not getattr(wrapper, '_mnext_nonfinite_guard', False):
                self._guard(wrapper)

    def _guard(self, wrapper: OptimWrapper) -> None:
        update_params, step = wrapper.update_params, wrapper.step

        @functools.wraps(update_params)
        def guarded_update_params(loss: torch.Tensor, *args: Any, **kwargs: Any) -> None:
            if _any_rank_nonfinite(loss):
                self._tripped = 'loss'
                wrapper.zero_grad()
                return None
            return update_params(loss, *args, **kwargs)

        @functools.wraps(step)
        def guarded_step(*args: Any, **kwargs: Any) -> None:
            bad = _nonfinite_grads(wrapper, self._names)
            if bad:
                self._tripped = f'gradient of {", ".join(bad[:3])}' + (
                    f' and {len(bad) - 3} more' if len(bad) > 3 else '')
                wrapper.zero_grad()
                return None
            return step(*args, **kwargs)

        wrapper.update_params = guarded_update_params
        if self.check_grads and not isinstance(wrapper, AmpOptimWrapper):
            # AmpOptimWrapper's GradScaler already skips steps with inf/NaN gradients.
            wrapper.step = guarded_step
        wrapper._mnext_nonfinite_guard = True

    def after_train_iter(self, runner, batch_idx: int, data_batch: Any = None,
                         outputs: Optional[Dict] = None) -> None:
        if not self._tripped:
            self._consecutive = 0
            return
        what, self._tripped = self._tripped, ''
        self.skipped += 1
        self._consecutive += 1
        terms = ', '.join(f'{k}={_as_float(v):.6g}' for k, v in (outputs or {}).items())
        where = f'epoch {runner.epoch + 1}, iteration {runner.iter + 1}'
        if self.action == 'skip' and self._consecutive <= self.max_consecutive_skips:
            runner.message_hub.update_scalar('train/nonfinite_skipped', self.skipped)
            runner.logger.warning(f'non-finite {what} at {where} ({terms}): update skipped '
                                  f'({self.skipped} skipped so far)')
            return
        last = read_last_checkpoint(runner.work_dir) or NO_CHECKPOINT
        reason = (f'{self._consecutive} non-finite iterations in a row, the last: {what}'
                  if self.action == 'skip' else f'non-finite {what}')
        raise NonFiniteLossError(
            f'{reason} at {where}: {terms}. Weights were not updated with it; the last '
            f'good checkpoint is {last}. Lower the learning rate, lengthen the warm-up or '
            'set optim_wrapper.clip_grad, then resume with --resume (or set '
            "NonFiniteLossHook action='skip' to drop such steps).")


def _any_rank_nonfinite(loss: torch.Tensor) -> bool:
    flag = (~torch.isfinite(loss.detach())).any().float().reshape(1)
    if is_distributed():
        torch_dist.all_reduce(flag)
    return bool(flag.item() > 0)


def _nonfinite_grads(wrapper: OptimWrapper, names: Dict[int, str]) -> List[str]:
    """Names of the parameters with a NaN/inf gradient: one fused check per
    device (``GradScaler``'s kernel with scale 1, which leaves every gradient
    bit-identical) instead of one ``isfinite`` per tensor; named only when one
    is found."""
    params = [p for group in wrapper.optimizer.param_groups for p in group['params']
              if p.grad is not None]
    by_device: Dict[torch.device, List[torch.Tensor]] = {}
    for p in params:
        by_device.setdefault(p.grad.device, []).append(p.grad)
    found = False
    for device, grads in by_device.items():
        flag = torch.zeros(1, device=device)
        torch._amp_foreach_non_finite_check_and_unscale_(grads, flag,
                                                         torch.ones(1, device=device))
        found = found or bool(flag.item())  # one device sync per device and step
    if not found:
        return []
    return [names.get(id(p), f'parameter {i}') for i, p in enumerate(params)
            if not bool(torch.isfinite(p.grad).all())]


def _as_float(value: Any) -> float:
    if isinstance(value, torch.Tensor):
        return float(value.detach().float().mean())
    return float(value)
