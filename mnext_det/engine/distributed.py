"""Multi-process training on CPU (gloo) and a clear, bounded exit when a
rank dies or hangs.

mmengine 0.10.7 cannot run ``--launcher pytorch`` without CUDA: its
``_init_dist_pytorch`` calls ``torch.cuda.set_device`` unconditionally, and
``Runner.wrap_model`` passes ``device_ids=[LOCAL_RANK]`` to DDP, which DDP
rejects for CPU modules. Instead of patching mmengine,
:func:`configure_cpu_distributed` selects gloo and
:class:`CPUAwareDistributedDataParallel` in the config, and
:func:`init_cpu_process_group` creates the process group before the Runner,
which then skips its own ``init_dist``.
"""
import contextlib
import datetime
import os
import sys
from typing import Iterator, List

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.dist import get_rank, is_distributed
from mmengine.model import MMDistributedDataParallel
from mmengine.registry import MODEL_WRAPPERS

from ..checkpoint import read_last_checkpoint
from .checkpoint_hook import NO_CHECKPOINT

__all__ = [
    'CPUAwareDistributedDataParallel', 'configure_cpu_distributed', 'init_cpu_process_group',
    'exit_on_peer_failure', 'is_peer_failure', 'PEER_FAILURE_EXIT_CODE'
]

PEER_FAILURE_EXIT_CODE = 3
DEFAULT_TIMEOUT_S = 1800
# gloo raises plain RuntimeErrors from its transport ("[.../gloo/transport/tcp/pair.cc]
# Read error ... Connection reset by peer", "... Timed out waiting 15000ms ...",
# "Application timeout caused pair closure").
_PEER_FAILURE_TEXT = ('gloo', 'nccl', 'processgroup', 'connection reset', 'connection closed',
                      'broken pipe', 'pair closure', 'timed out')


@MODEL_WRAPPERS.register_module()
class CPUAwareDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` that drops ``device_ids`` for a module
    on the CPU (DDP requires ``device_ids=None`` there); on GPUs it is
    ``MMDistributedDataParallel``."""

    def __init__(self, module: torch.nn.Module, device_ids=None, **kwargs) -> None:
        on_cpu = all(p.device.type == 'cpu' for p in module.parameters())
        super().__init__(module=module, device_ids=None if on_cpu else device_ids, **kwargs)


def configure_cpu_distributed(cfg: Config) -> List[str]:
    """Without CUDA and with a launcher: gloo backend and the CPU-aware DDP
    wrapper. Returns the changes made (empty when none were needed)."""
    if cfg.get('launcher', 'none') == 'none' or torch.cuda.is_available():
        return []
    changes = []
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    if dist_cfg.get('backend') != 'gloo':
        changes.append(f"env_cfg.dist_cfg.backend: {dist_cfg.get('backend')!r} -> 'gloo' (no CUDA)")
        dist_cfg['backend'] = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg') or {}
    if wrapper.get('type', 'MMDistributedDataParallel') in ('MMDistributedDataParallel',
                                                            'mmengine.MMDistributedDataParallel'):
        wrapper = dict(wrapper, type='CPUAwareDistributedDataParallel')
        cfg.model_wrapper_cfg = wrapper
        changes.append('model_wrapper_cfg.type -> CPUAwareDistributedDataParallel (no CUDA)')
    return changes


def init_cpu_process_group(cfg: Config) -> bool:
    """Create the gloo process group for ``--launcher pytorch`` without CUDA
    (torchrun's RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT), with
    ``env_cfg.dist_cfg.timeout`` seconds (default 1800) as the limit for a
    collective whose peer does not answer. Returns True if it created one."""
    if (cfg.get('launcher', 'none') != 'pytorch' or torch.cuda.is_available()
            or torch_dist.is_initialized()):
        return False
    missing = [k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')
               if k not in os.environ]
    if missing:
        raise ValueError(f'--launcher pytorch needs the environment variables {missing} '
                         '(start with tools/dist_train.sh or torchrun)')
    dist_cfg = cfg.get('env_cfg', {}).get('dist_cfg', {})
    timeout = dist_cfg.get('timeout', DEFAULT_TIMEOUT_S)
    torch_dist.init_process_group(backend=dist_cfg.get('backend', 'gloo'),
                                  rank=int(os.environ['RANK']),
                                  world_size=int(os.environ['WORLD_SIZE']),
                                  timeout=datetime.timedelta(seconds=timeout))
    return True


def is_peer_failure(exc: BaseException) -> bool:
    """Whether ``exc`` looks like a lost/timed-out distributed peer."""
    if isinstance(exc, getattr(torch_dist, 'DistError', ())):
        return True
    return isinstance(exc, RuntimeError) and any(t in str(exc).lower()
                                                 for t in _PEER_FAILURE_TEXT)


@contextlib.contextmanager
def exit_on_peer_failure(runner) -> Iterator[None]:
    """Turn a lost-peer error of distributed training into one clear message
    and exit status :data:`PEER_FAILURE_EXIT_CODE`, without waiting for the
    process group to shut down (which could hang on the dead peer)."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001  (filtered below, else re-raised)
        if not (is_distributed() and is_peer_failure(exc)):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ''
        last = read_last_checkpoint(runner.work_dir) or NO_CHECKPOINT
        msg = (f'[rank {get_rank()}] distributed training stopped at epoch {runner.epoch + 1}, '
               f'iteration {runner.iter + 1}: lost contact with another rank (it died, or '
               f'did not answer within env_cfg.dist_cfg.timeout). {type(exc).__name__}: '
               f'{first[:400]}. Last checkpoint: {last}. Restart all ranks with --resume.')
        try:
            runner.logger.error(msg)  # the log file (and stdout on rank 0)
        finally:
            print(msg, file=sys.stderr, flush=True)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(PEER_FAILURE_EXIT_CODE)
