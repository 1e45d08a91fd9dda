"""The C++ extension of :mod:`mnext_det.ops`, built for this CPU on first use.

One module holds every kernel (``csrc/*.cpp``, bound in ``csrc/bindings.cpp``).
It is compiled for this CPU (``-O3 -march=native -fopenmp``) on
first use, about 40 s, and cached by torch under a name that holds a digest
of the sources, the compiler flags, torch's version and the CPU's model and
flags, so a home folder shared between machines never loads another CPU's
build. It compiles from a copy of the sources kept next to the build
(:func:`_build_sources`): torch's ninja file names the sources' paths and
ninja rebuilds on a newer file, so compiling from the checkout rebuilt it
for every fresh clone or ``git checkout`` of unchanged sources (45 s of a
fresh clone's ``make demo``); every checkout with the same sources now loads
one build.
"""
import hashlib
import logging
import os
import os.path as osp
import platform
import shutil
import tempfile
import warnings
from types import ModuleType
from typing import Optional

import torch

__all__ = ['extension_status', 'load_extension']

_CSRC = osp.join(osp.dirname(__file__), 'csrc')
_SOURCES = ('batch_norm_act.cpp', 'depthwise_conv3x3.cpp', 'bindings.cpp')
_HEADERS = ('ops.h', 'batch_norm_grad.h')
_CFLAGS = ['-O3', '-march=native', '-fopenmp']
_state: dict = {}


def _cpu_model() -> str:
    """The CPU's model name and instruction-set flags (a VM may hide some of a
    model's), as ``-march=native`` sees them."""
    try:
        with open('/proc/cpuinfo') as f:
            lines = [line for line in f if line.startswith(('model name', 'flags'))]
        return ''.join(dict.fromkeys(lines))
    except OSError:
        return platform.processor()


def _build_name() -> str:
    digest = hashlib.sha1()
    for name in _SOURCES + _HEADERS:
        with open(osp.join(_CSRC, name), 'rb') as f:
            digest.update(f.read())
    digest.update(' '.join([*_CFLAGS, torch.__version__, platform.machine(),
                            _cpu_model()]).encode())
    return f'mnext_ops_{digest.hexdigest()[:12]}'


def _build_sources(name: str) -> str:
    """The folder the build ``name`` compiles from: a copy of the sources
    under torch's extensions folder, made once by whichever process comes
    first (written aside, then renamed into place)."""
    from torch.utils.cpp_extension import get_default_build_root
    root = os.environ.get('TORCH_EXTENSIONS_DIR') or get_default_build_root()
    folder = osp.join(root, f'{name}_src')
    if not osp.isdir(folder):
        os.makedirs(root, exist_ok=True)
        aside = tempfile.mkdtemp(prefix=f'{name}_src.', dir=root)
        for file in _SOURCES + _HEADERS:
            shutil.copy2(osp.join(_CSRC, file), aside)
        try:
            os.rename(aside, folder)
        except OSError:  # another process renamed its copy first
            shutil.rmtree(aside, ignore_errors=True)
    return folder


def _put_ninja_on_path() -> None:
    """torch runs ``ninja`` from ``PATH``; the pip package's binary is not
    there when the interpreter's environment is not activated."""
    if shutil.which('ninja'):
        return
    try:
        import ninja
    except ImportError:
        return
    os.environ['PATH'] = ninja.BIN_DIR + os.pathsep + os.environ.get('PATH', '')


def load_extension(required: bool = False) -> Optional[ModuleType]:
    """The compiled module, built on first call; ``None`` where it cannot be
    built (no compiler or ninja), with one warning naming the reason, or the
    error itself with ``required=True``."""
    if 'module' in _state and (_state['module'] is not None or not required):
        return _state['module']
    try:
        logger = logging.getLogger('torch.utils.cpp_extension')
        level = logger.level
        logger.setLevel(logging.ERROR)  # "No CUDA runtime is found": this is a CPU build
        try:
            from torch.utils.cpp_extension import load
            _put_ninja_on_path()
            name = _build_name()
            sources = _build_sources(name)
            module = load(name, [osp.join(sources, file) for file in _SOURCES],
                          extra_cflags=_CFLAGS, extra_ldflags=['-fopenmp'], verbose=False)
        finally:
            logger.setLevel(level)
        _state.update(module=module, reason='compiled for this CPU')
    except Exception as err:  # a missing compiler or ninja: torch's op stays
        if required:
            raise RuntimeError(f'cannot build the kernels in {_CSRC}: {err}') from err
        lines = str(err).strip().splitlines() or ['']
        # the compiler's or the shell's own words, not torch's "Error building extension"
        cause = next((line for line in lines if any(
            word in line for word in ('error:', 'not found', 'No such file'))), lines[-1])
        _state.update(module=None, reason=f'not built ({type(err).__name__}: {cause.strip()})')
        warnings.warn('compiled CPU kernels unavailable (fused batch norm, depthwise conv), '
                      f'torch\'s ops are used: {_state["reason"]}')
    return _state['module']


def extension_status() -> str:
    """Whether the kernels are in use, and why not, in a few words."""
    load_extension()
    return _state['reason']
