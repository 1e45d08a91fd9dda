"""The registry name that a config's ``type`` entry refers to."""
from typing import Any

__all__ = ['type_name']


def type_name(type_value: Any) -> str:
    """``'ValidatedDataset'`` for ``'ValidatedDataset'``, a scoped
    ``'mmdet.ValidatedDataset'`` or the class itself (configs may hold either);
    ``''`` when there is no type."""
    if type_value is None:
        return ''
    if isinstance(type_value, type):
        return type_value.__name__
    return str(type_value).split('.')[-1]
