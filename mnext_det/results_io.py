"""Read result pickles (``tools/test.py --out results.pkl``, mmengine's
``DumpResults``) without running code from them.

mmdet's analysis tools (``confusion_matrix.py``, ``analyze_results.py``,
``eval_metric.py``) read such files with ``mmengine.fileio.load``, a plain
``pickle.load``; :func:`mnext_det.compat.register_safe_pickle_loader` routes
them here. Only containers, numbers, strings, numpy arrays and torch tensors
are rebuilt; any other global is refused.
"""
import pickle
from typing import IO, Any, Callable, Dict, Tuple

import numpy as np
import torch

from .checkpoint import load_storage_bytes, safe_globals

__all__ = ['UnsafePickleError', 'SafeUnpickler', 'load_pickle']


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle references a global outside the allow-list."""


def _qualified(obj: Any) -> Tuple[str, str]:
    return obj.__module__.replace('numpy.core.', 'numpy._core.'), obj.__qualname__


def _allowed() -> Dict[Tuple[str, str], Callable]:
    allowed = {}
    for entry in safe_globals():
        obj, name = entry if isinstance(entry, tuple) else (entry, None)
        key = tuple(name.rsplit('.', 1)) if name else _qualified(obj)
        allowed[key] = obj
    allowed[_qualified(torch._utils._rebuild_tensor_v2)] = torch._utils._rebuild_tensor_v2
    allowed[('torch.storage', '_load_from_bytes')] = load_storage_bytes
    allowed[('torch', 'Size')] = torch.Size
    allowed[('_codecs', 'encode')] = __import__('_codecs').encode
    allowed[('numpy', 'ndarray')] = np.ndarray
    allowed[('numpy', 'dtype')] = np.dtype
    return allowed


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds data only (see the module docstring)."""

    _ALLOWED = _allowed()

    def find_class(self, module: str, name: str) -> Any:
        key = (module.replace('numpy.core.', 'numpy._core.'), name)
        if key not in self._ALLOWED:
            raise UnsafePickleError(
                f'{module}.{name} is not allowed in a results pickle (it could run code '
                'on load); only containers, numbers, strings, numpy arrays and torch '
                'tensors are read')
        return self._ALLOWED[key]


def load_pickle(file: IO[bytes], **kwargs: Any) -> Any:
    """``pickle.load`` restricted to data (raises :class:`UnsafePickleError`)."""
    return SafeUnpickler(file, **kwargs).load()
