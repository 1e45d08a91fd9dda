"""Patches today's torch needs for mmengine/mmdet, in one place.

Each function names the upstream problem it works around; tests in
``tests/test_compat.py`` fail when a patch stops being needed or working.
"""
from mmengine.runner.checkpoint import CheckpointLoader

from .checkpoint import load_checkpoint_file

__all__ = ['register_safe_checkpoint_loader']


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
