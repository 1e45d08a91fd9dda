"""Atomic writes keep the old file when writing fails."""
import os

import pytest

from mnext_det.engine import atomic_write_bytes


def test_atomic_write_keeps_old_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / 'ckpt.pth'
    atomic_write_bytes(path, b'old')
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o666 & ~_umask())

    def broken_fsync(fd):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'fsync', broken_fsync)
    with pytest.raises(OSError, match='disk full'):
        atomic_write_bytes(path, b'new content')
    assert path.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['ckpt.pth']


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
