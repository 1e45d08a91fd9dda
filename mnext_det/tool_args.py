"""Checks of the tools' parsed command-line arguments (or of options objects
whose fields are named as the flags), run before any work."""
from typing import Any, Tuple

__all__ = ['require_at_least', 'require_between']


def require_at_least(args: Any, **least: int) -> None:
    """Refuse an argument below its least value, e.g. ``iters=1``: raises
    ``ValueError('--iters must be at least 1, got 0')``. A list argument is
    checked item by item; one left out (None) is not checked."""
    for name, low in least.items():
        value = getattr(args, name)
        for item in (value if isinstance(value, (list, tuple)) else [value]):
            if item is not None and item < low:
                raise ValueError(f'--{name.replace("_", "-")} must be at least {low}, got {item}')


def require_between(args: Any, **bounds: Tuple[float, float]) -> None:
    """Refuse an argument outside its closed interval, e.g. ``score_thr=(0, 1)``:
    raises ``ValueError('--score-thr must be in [0, 1], got 2.0')``."""
    for name, (low, high) in bounds.items():
        value = getattr(args, name)
        if value is not None and not low <= value <= high:
            raise ValueError(f'--{name.replace("_", "-")} must be in [{low:g}, {high:g}], '
                             f'got {value}')
