"""Checks of the tools' parsed command-line arguments, run before any work."""
import argparse

__all__ = ['require_at_least']


def require_at_least(args: argparse.Namespace, **least: int) -> None:
    """Refuse an argument below its least value, e.g. ``iters=1``: raises
    ``ValueError('--iters must be at least 1, got 0')``. A list argument is
    checked item by item; one left out (None) is not checked."""
    for name, low in least.items():
        value = getattr(args, name)
        for item in (value if isinstance(value, (list, tuple)) else [value]):
            if item is not None and item < low:
                raise ValueError(f'--{name.replace("_", "-")} must be at least {low}, got {item}')
