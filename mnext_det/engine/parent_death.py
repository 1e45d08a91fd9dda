"""Trainings started by another process (the demo, a study) end with it.

A ``kill -9`` of ``tools/study.py`` left its ``tools/train.py`` children
training on as orphans; a rerun then started a second training in the same
work dirs. The parent puts its pid in the children's environment
(:func:`child_env`); each child asks the kernel for SIGTERM when its parent
dies (Linux ``prctl(PR_SET_PDEATHSIG)``, kept across the tcmalloc
re-execution) and exits at once when the parent is already gone
(:func:`exit_with_parent`). Elsewhere nothing changes.
"""
import ctypes
import ctypes.util
import os
import signal
import sys
from typing import Dict, Mapping

__all__ = ['PARENT_ENV', 'child_env', 'training_env', 'exit_with_parent']

PARENT_ENV = 'MNEXT_PARENT_PID'
_PR_SET_PDEATHSIG = 1


def child_env(env: Mapping[str, str]) -> Dict[str, str]:
    """``env`` for a child that should end with this process."""
    return {**env, PARENT_ENV: str(os.getpid())}


def training_env(threads: int) -> Dict[str, str]:
    """The environment of a ``tools/train.py`` or ``tools/test.py`` child:
    started under tcmalloc (as the tools would re-execute themselves into
    it), ``threads`` OpenMP/MKL threads, ending with this process."""
    from .allocator import tcmalloc_env
    return child_env(dict(tcmalloc_env(), OMP_NUM_THREADS=str(threads),
                          MKL_NUM_THREADS=str(threads)))


def exit_with_parent() -> None:
    """In a child started with :func:`child_env`: SIGTERM when the parent
    dies, and exit now if it has died already (then the child's parent is
    another process). A no-op without the variable or off Linux."""
    parent = os.environ.get(PARENT_ENV)
    if not parent or not sys.platform.startswith('linux'):
        return
    libc = ctypes.CDLL(ctypes.util.find_library('c'), use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if str(os.getppid()) != parent:
        sys.exit(f'error: the process that started this one ({PARENT_ENV}={parent}) has ended')
