"""Patches mmengine/mmdet need on today's torch and on CPU-only machines, in
one place.

Each function names the upstream problem it works around; tests fail when a
patch stops being needed or working (``tests/test_checkpoint.py``
for checkpoints, ``tests/test_results_io.py`` and
``tests/test_tools/test_mmdet_analysis_tools.py`` for results pickles and the
CPU benchmark, ``tests/test_compat.py`` for package paths).
"""
import contextlib
import functools
import importlib.metadata
import importlib.util
import os.path as osp
import sys
from typing import Any, Callable, Iterator
from unittest import mock

import torch
from mmengine.fileio.handlers import PickleHandler
from mmengine.runner.checkpoint import CheckpointLoader

from .checkpoint import load_checkpoint_file
from .results_io import load_pickle

__all__ = [
    'register_safe_checkpoint_loader', 'register_safe_pickle_loader',
    'register_cpu_inference_benchmark', 'register_package_paths', 'is_installed',
    'installed_path'
]


def _load_from_local(filename: str, map_location=None):
    return load_checkpoint_file(filename, map_location=map_location)


def register_safe_checkpoint_loader() -> None:
    """Route mmengine's local-file checkpoint loading (``--resume``,
    ``load_from``, ``init_cfg=dict(type='Pretrained')``) through
    :func:`mnext_det.checkpoint.load_checkpoint_file`.

    mmengine 0.10.7 calls ``torch.load`` without ``weights_only``; since torch
    2.6 that refuses the HistoryBuffer/numpy objects mmengine itself saves
    (mmengine#1655), and turning the check off would run any pickled code.
    """
    CheckpointLoader.register_scheme(prefixes='', loader=_load_from_local, force=True)

_UPSTREAM_PICKLE_LOAD = PickleHandler.load_from_fileobj


def _load_pickle_from_fileobj(self, file, **kwargs):
    return load_pickle(file, **kwargs)


def register_safe_pickle_loader() -> None:
    """Route ``mmengine.fileio.load('*.pkl')`` through
    :func:`mnext_det.results_io.load_pickle`.

    mmengine 0.10.7's ``PickleHandler.load_from_fileobj`` is a bare
    ``pickle.load`` (no upstream issue or option to restrict it), and mmdet's
    ``confusion_matrix.py``, ``analyze_results.py`` and ``eval_metric.py`` read
    ``tools/test.py --out`` files with it, so a crafted ``results.pkl`` would
    run code. Their configs import ``mnext_det`` before the file is read.
    """
    PickleHandler.load_from_fileobj = _load_pickle_from_fileobj


@contextlib.contextmanager
def _cuda_calls_on_cpu() -> Iterator[None]:
    import mmdet.utils.benchmark as benchmark
    from mmengine.model import BaseModel
    stay = lambda self, *a, **k: self  # noqa: E731
    with mock.patch.object(torch.nn.Module, 'cuda', stay), \
            mock.patch.object(BaseModel, 'cuda', stay), \
            mock.patch.object(torch.cuda, 'synchronize', lambda *a, **k: None), \
            mock.patch.object(benchmark, 'get_max_cuda_memory', lambda *a, **k: 0):
        yield


def _on_cpu(method: Callable) -> Callable:

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if torch.cuda.is_available():
            return method(*args, **kwargs)
        with _cuda_calls_on_cpu():
            return method(*args, **kwargs)

    wrapper.__wrapped_for_cpu__ = True
    return wrapper


def register_cpu_inference_benchmark() -> None:
    """Let mmdet's ``tools/analysis_tools/benchmark.py --task inference`` run
    on a machine without CUDA.

    mmdet 3.3.0's ``InferenceBenchmark`` calls ``model.cuda()``,
    ``torch.cuda.synchronize()`` and ``get_max_cuda_memory()`` unconditionally
    (``RuntimeError: Found no NVIDIA driver``; mmdetection#11903, "How to use
    CPU to test FPS", open). Without CUDA, and only inside its own methods,
    those become no-ops (memory reads 0 MB); with CUDA nothing changes. Applied once mmdet
    is imported (the tool imports it before its config imports ``mnext_det``),
    so ``import mnext_det`` stays free of mmdet.
    """
    if 'mmdet' not in sys.modules:
        return
    from mmdet.utils.benchmark import InferenceBenchmark
    for name in ('_init_model', 'run_once', 'average_multiple_runs'):
        method = getattr(InferenceBenchmark, name)
        if not getattr(method, '__wrapped_for_cpu__', False):
            setattr(InferenceBenchmark, name, _on_cpu(method))


def is_installed(package: str) -> bool:
    """Whether ``package`` is an installed distribution or an importable,
    non-namespace module (mmengine's ``is_installed``, without
    ``pkg_resources``)."""
    try:
        importlib.metadata.distribution(package)
        return True
    except importlib.metadata.PackageNotFoundError:
        spec = importlib.util.find_spec(package)
        return spec is not None and spec.origin is not None


def installed_path(package: str) -> str:
    """The folder of the installed module ``package`` (mmengine's
    ``get_installed_path``, without ``pkg_resources``): the module's own
    folder when it imports by that name, else the distribution's first
    top-level module.

    Raises:
        importlib.metadata.PackageNotFoundError: nothing of that name is
            installed or importable.
        RuntimeError: ``package`` is a namespace package.
        ValueError: the distribution names no top-level module.
    """
    spec = importlib.util.find_spec(package)
    if spec is not None:
        if spec.origin is None:
            raise RuntimeError(f'{package} is a namespace package: it has no installed path')
        return osp.dirname(spec.origin)
    dist = importlib.metadata.distribution(package)
    top_level = (dist.read_text('top_level.txt') or '').split()
    if not top_level:
        raise ValueError(f'cannot infer the module name of the distribution {package}')
    return osp.join(str(dist.locate_file('')), top_level[0])


def register_package_paths() -> None:
    """Let mmengine find installed packages without ``pkg_resources``.

    mmengine 0.10.7's ``is_installed`` and ``get_installed_path`` import
    ``pkg_resources``, which setuptools dropped in 82 (mmcv#3325 for mmcv's
    build), so on a current environment a config whose ``_base_`` is
    package-scoped (``'mmdet::_base_/default_runtime.py'``, as mmdet's
    ``projects/`` write them) and ``mmengine.hub.get_config('mmdet::...')``
    end in ``ModuleNotFoundError: No module named 'pkg_resources'``. Both
    names are replaced where mmengine bound them by :func:`is_installed` and
    :func:`installed_path` (``importlib.metadata``), also where
    ``pkg_resources`` exists, so every environment resolves alike.
    """
    import mmengine.config.config as config_module
    import mmengine.hub.hub as hub_module
    import mmengine.utils as utils_module
    import mmengine.utils.package_utils as package_utils
    for module in (package_utils, utils_module, config_module, hub_module):
        if hasattr(module, 'is_installed'):
            module.is_installed = is_installed
        module.get_installed_path = installed_path
