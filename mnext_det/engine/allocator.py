"""Run CPU training and benchmarks under tcmalloc when the machine has it.

glibc's malloc serves every block over its mmap threshold (32 MiB at most) with
fresh pages from the kernel and unmaps them when the block is freed, so each
training step page-faults its large activations anew: on this project's CPU
11-27 ms of system time per step of SSDLite-MobileNeXt-0.5 (batch 8, 160 px).
tcmalloc keeps freed memory for reuse: the demo detectors train 1.23-1.27x
faster, the COCO ones 1.14-1.20x (``docs/deploy.md``, "Training"). The preload
has to be in place before the interpreter starts, so a tool re-executes itself
with ``LD_PRELOAD`` set (:func:`reexec_under_tcmalloc`), and child processes
get it in their environment (:func:`tcmalloc_env`).

``MNEXT_ALLOCATOR=system`` keeps glibc's malloc; ``auto`` (the default) uses
tcmalloc when a ``libtcmalloc`` is found (Debian/Ubuntu:
``apt install libtcmalloc-minimal4``; conda: ``gperftools``).
"""
import glob
import os
import os.path as osp
import sys
from typing import Dict, Mapping, Optional

__all__ = ['ALLOCATOR_ENV', 'find_tcmalloc', 'loaded_allocator', 'tcmalloc_env',
           'reexec_under_tcmalloc']

ALLOCATOR_ENV = 'MNEXT_ALLOCATOR'
_CHOICES = ('auto', 'system')
_LIB_PATTERNS = ('libtcmalloc_minimal.so*', 'libtcmalloc.so*')
_SYSTEM_DIRS = ('/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64',
                '/usr/lib', '/usr/local/lib')
# tcmalloc prints a warning for every block over 1 GiB by default; a COCO-size
# batch has such blocks, and they are expected.
_QUIET = {'TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD': str(64 << 30)}
_REEXEC_MARK = '_MNEXT_ALLOCATOR_REEXEC'
# allocators a process may have preloaded, by the library name that shows it
_ALLOCATORS = {'libtcmalloc': 'tcmalloc', 'libjemalloc': 'jemalloc', 'libmimalloc': 'mimalloc'}


def _choice(env: Mapping[str, str]) -> str:
    value = env.get(ALLOCATOR_ENV, 'auto')
    if value not in _CHOICES:
        raise ValueError(f'{ALLOCATOR_ENV}={value!r}: expected one of {", ".join(_CHOICES)}')
    return value


def find_tcmalloc(env: Mapping[str, str] = os.environ) -> Optional[str]:
    """Path of a tcmalloc shared library (the active conda environment's first,
    then the system's), or ``None``."""
    dirs = [osp.join(env['CONDA_PREFIX'], 'lib')] if env.get('CONDA_PREFIX') else []
    for folder in dirs + list(_SYSTEM_DIRS):
        for pattern in _LIB_PATTERNS:
            found = sorted(glob.glob(osp.join(folder, pattern)))
            if found:
                return found[0]
    return None


def _allocator_in(text: str) -> Optional[str]:
    return next((name for lib, name in _ALLOCATORS.items() if lib in text), None)


def loaded_allocator() -> str:
    """The malloc this process runs on: ``'tcmalloc'``, ``'jemalloc'`` or
    ``'mimalloc'`` when such a library is mapped, else ``'system'``."""
    try:
        with open('/proc/self/maps') as f:
            return _allocator_in(f.read()) or 'system'
    except OSError:
        return 'system'


def tcmalloc_env(env: Mapping[str, str] = os.environ) -> Dict[str, str]:
    """A copy of ``env`` whose processes start under tcmalloc, when one is found
    and ``MNEXT_ALLOCATOR`` allows it; otherwise (also when ``LD_PRELOAD``
    already names an allocator: the user's choice) an unchanged copy."""
    out = dict(env)
    lib = find_tcmalloc(env) if _choice(env) == 'auto' else None
    if lib is None or _allocator_in(env.get('LD_PRELOAD', '')):
        return out
    out['LD_PRELOAD'] = ':'.join(p for p in (lib, env.get('LD_PRELOAD', '')) if p)
    for key, value in _QUIET.items():
        out.setdefault(key, value)
    return out


def reexec_under_tcmalloc() -> None:
    """Replace this process by the same command under tcmalloc (same pid,
    arguments and environment plus ``LD_PRELOAD``), unless it already runs on
    a preloaded allocator, none is found, ``MNEXT_ALLOCATOR=system``, or this
    process is itself such a re-execution (the preload did not take: no
    second try)."""
    if os.environ.get(_REEXEC_MARK) or loaded_allocator() != 'system':
        return
    env = tcmalloc_env()
    if env.get('LD_PRELOAD') == os.environ.get('LD_PRELOAD'):
        return
    env[_REEXEC_MARK] = '1'
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, getattr(sys, 'orig_argv', None) or [sys.executable] + sys.argv,
              env)
