"""Replay the deterministic head of a data pipeline from memory.

On a small dataset trained for many epochs, every epoch decodes and resizes
the same images again: in the demo detector's loader about half of the
10 ms it spends per batch of 8. :class:`CachedTransforms` runs its
transforms once per image and returns a copy of their result afterwards, so
the samples, and the training, stay bit-identical; only deterministic
transforms are accepted (the random ones run after it, every epoch). The
cache lives in the process that loads the data: the training process when
the loader has no workers, each worker with ``persistent_workers=True``; a
loader whose workers restart every epoch starts each epoch empty.
"""
import copy
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.dataset import Compose
from mmengine.registry import TRANSFORMS

from ..config_types import type_name

__all__ = ['CachedTransforms', 'DETERMINISTIC_TRANSFORMS', 'deterministic_head']

# Transforms whose output depends on their input alone (none draws random numbers)
DETERMINISTIC_TRANSFORMS = ('LoadImageFromFile', 'LoadAnnotations', 'Resize', 'DecodeImage',
                            'TorchvisionTransforms')
_DETERMINISTIC_TORCHVISION = ('Resize', 'CenterCrop', 'ToImage', 'ToDtype', 'Grayscale')


def _name(transform: Union[Dict, Any]) -> str:
    if isinstance(transform, dict):
        return type_name(transform.get('type'))
    return type(transform).__name__


def _random_part(transform: Union[Dict, Any]) -> Optional[str]:
    """Why ``transform`` cannot be replayed (``None`` when it can)."""
    name = _name(transform)
    if name not in DETERMINISTIC_TRANSFORMS:
        return (f'CachedTransforms replays deterministic transforms only '
                f'({", ".join(DETERMINISTIC_TRANSFORMS)}), got {name!r}: put it after '
                'CachedTransforms in the pipeline')
    if name == 'TorchvisionTransforms':
        inner = transform.get('transforms', []) if isinstance(transform, dict) else \
            transform.transform.transforms
        random = [_name(t) for t in inner if _name(t) not in _DETERMINISTIC_TORCHVISION]
        if random:
            return (f'CachedTransforms: TorchvisionTransforms holds {random}, not among the '
                    f'deterministic {", ".join(_DETERMINISTIC_TORCHVISION)}: split it and put '
                    'those after CachedTransforms')
    return None


def _check_deterministic(transforms: Sequence[Union[Dict, Any]]) -> None:
    for transform in transforms:
        reason = _random_part(transform)
        if reason:
            raise ValueError(reason)


def deterministic_head(transforms: Sequence[Union[Dict, Any]]) -> List[Union[Dict, Any]]:
    """The leading transforms of a pipeline that :class:`CachedTransforms`
    can replay (up to the first random one)."""
    head: List[Union[Dict, Any]] = []
    for transform in transforms:
        if _random_part(transform):
            break
        head.append(transform)
    return head


def _nbytes(value: Any) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if isinstance(getattr(value, 'tensor', None), torch.Tensor):  # mmdet's box types
        return _nbytes(value.tensor)
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_nbytes(v) for v in value)
    return 0


@TRANSFORMS.register_module()
class CachedTransforms:
    """Run ``transforms`` once per sample (keyed by ``results[key]``) and
    return a deep copy of their first result every later time.

    Args:
        transforms: Deterministic transforms (:data:`DETERMINISTIC_TRANSFORMS`;
            a ``TorchvisionTransforms`` only with resizing or cropping to a
            fixed size), as config dicts or objects.
        key: The results entry that names a sample. Default: ``'img_path'``.
        max_bytes: Array bytes the cache may hold; samples beyond it are
            transformed every time. Default: 2 GiB.

    Config: ``dict(type='CachedTransforms', transforms=[dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True), dict(type='Resize', scale=(160, 160),
    keep_ratio=False)])`` followed by the random transforms.
    """

    def __init__(self, transforms: Sequence[Union[Dict, Any]], key: str = 'img_path',
                 max_bytes: int = 2 * 1024**3) -> None:
        if not transforms:
            raise ValueError('CachedTransforms needs at least one transform')
        _check_deterministic(transforms)
        self.pipeline = Compose(list(transforms))
        self.key = key
        self.max_bytes = max_bytes
        self.cached_bytes = 0
        self._cache: Dict[Any, Dict] = {}

    def __call__(self, results: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        if self.key not in results:
            raise KeyError(f'CachedTransforms: the sample has no {self.key!r} to key the cache '
                           f'by (keys: {sorted(results)}); set key=')
        name = results[self.key]
        if name in self._cache:
            return copy.deepcopy(self._cache[name])
        out = self.pipeline(results)
        if out is not None:
            size = _nbytes(out)
            if self.cached_bytes + size <= self.max_bytes:
                self._cache[name] = copy.deepcopy(out)
                self.cached_bytes += size
        return out

    def __repr__(self) -> str:
        return (f'{type(self).__name__}({self.pipeline}, key={self.key!r}, '
                f'{len(self._cache)} cached)')
