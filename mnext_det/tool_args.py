"""Checks of the tools' parsed command-line arguments (or of options objects
whose fields are named as the flags), run before any work."""
import os
import os.path as osp
from typing import Any, Sequence, Tuple

__all__ = ['require_at_least', 'require_between', 'require_device', 'require_writable']


def _flag(name: str) -> str:
    """The command-line flag of an ``argparse`` destination: ``--score-thr``."""
    return f'--{name.replace("_", "-")}'


def require_at_least(args: Any, **least: int) -> None:
    """Refuse an argument below its least value, e.g. ``iters=1``: raises
    ``ValueError('--iters must be at least 1, got 0')``. A list argument is
    checked item by item; one left out (None) is not checked."""
    for name, low in least.items():
        value = getattr(args, name)
        for item in (value if isinstance(value, (list, tuple)) else [value]):
            if item is not None and item < low:
                raise ValueError(f'{_flag(name)} must be at least {low}, got {item}')


def require_between(args: Any, **bounds: Tuple[float, float]) -> None:
    """Refuse an argument outside its closed interval, e.g. ``score_thr=(0, 1)``:
    raises ``ValueError('--score-thr must be in [0, 1], got 2.0')``."""
    for name, (low, high) in bounds.items():
        value = getattr(args, name)
        if value is not None and not low <= value <= high:
            raise ValueError(f'{_flag(name)} must be in [{low:g}, {high:g}], got {value}')


def _blocking_file(path: str) -> str:
    """The existing file among the folders above ``path`` (which would have
    to be created as folders), or ''."""
    parent = osp.dirname(osp.abspath(path))
    while not osp.exists(parent):
        parent = osp.dirname(parent)
    return '' if osp.isdir(parent) else parent


def require_writable(args: Any, files: Sequence[str] = (), folders: Sequence[str] = ()) -> None:
    """Refuse, before any work, an output argument that cannot be written:
    one of ``files`` that is a folder, one of ``folders`` that is a file, or
    either below an existing file (``--out note.txt/res.pkl``), which
    otherwise failed after the work with ``FileExistsError``. Raises
    ``ValueError('--out: note.txt is a file, so it cannot hold note.txt/res.pkl')``.
    An argument left out (None) is not checked."""
    for names, kind in ((files, 'file'), (folders, 'folder')):
        for name in names:
            path = getattr(args, name)
            if path is None:
                continue
            flag = _flag(name)
            path = os.fspath(path)
            if kind == 'file' and osp.isdir(path):
                raise ValueError(f'{flag}: {path} is a folder; give a file name')
            if kind == 'folder' and osp.exists(path) and not osp.isdir(path):
                raise ValueError(f'{flag}: {path} is a file; give a folder')
            blocking = _blocking_file(path)
            if blocking:
                raise ValueError(f'{flag}: {blocking} is a file, so it cannot hold {path}')


def require_device(args: Any, name: str = 'device') -> None:
    """Refuse a ``--device`` that is not a torch device or that this machine
    lacks (``cuda`` without a GPU ended deep in the model's ``.to()``), e.g.
    ``ValueError('--device cuda: torch sees no CUDA device here ...')``."""
    import torch
    value = getattr(args, name)
    flag = _flag(name)
    try:
        device = torch.device(value)
    except RuntimeError:
        raise ValueError(f'{flag}: {value!r} is not a torch device (cpu, cuda, cuda:N)') from None
    if device.type == 'cuda':
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f'{flag} {value}: torch sees no CUDA device here '
                             '(torch.cuda.is_available() is False); use --device cpu')
        if device.index is not None and device.index >= count:
            raise ValueError(f'{flag} {value}: torch sees {count} CUDA device(s), '
                             f'cuda:0 to cuda:{count - 1}')
