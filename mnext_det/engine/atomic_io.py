"""Atomic file writes: a reader sees the old file or the complete new one.

``AtomicLocalBackend`` is registered as mmengine file backend
``'local_atomic'``; :class:`~mnext_det.engine.SafeCheckpointHook` passes
``backend_args=dict(backend='local_atomic')`` so that ``Runner.save_checkpoint``
writes every checkpoint through it.
"""
import os
import os.path as osp
import tempfile
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend

__all__ = ['atomic_write_bytes', 'atomic_write_text', 'AtomicLocalBackend', 'TMP_SUFFIX']

TMP_SUFFIX = '.tmp'


def atomic_write_bytes(path: Union[str, Path], data: bytes) -> None:
    """Write ``data`` to a temporary file next to ``path``, flush it to disk,
    then rename it over ``path`` (``os.replace``, atomic on POSIX)."""
    path = str(path)
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + osp.basename(path) + '.', suffix=TMP_SUFFIX,
                               dir=folder)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; keep open()'s mode
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    _fsync_dir(folder)


def atomic_write_text(path: Union[str, Path], text: str, encoding: str = 'utf-8') -> None:
    """Text version of :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode(encoding))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(folder: str) -> None:
    # Make the rename itself durable (POSIX); not possible on every platform.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend with atomic ``put``/``put_text``."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write_bytes(filepath, obj)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        atomic_write_text(filepath, obj, encoding)


register_backend('local_atomic', AtomicLocalBackend, force=True)
