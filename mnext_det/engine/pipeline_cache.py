"""Decode and resize each training image once, not once per epoch.

:class:`PipelineCacheHook` wraps the deterministic head of the train
pipeline (``LoadImageFromFile``, ``LoadAnnotations``, a fixed ``Resize``:
:data:`~mnext_det.datasets.DETERMINISTIC_TRANSFORMS`) in a
:class:`~mnext_det.datasets.CachedTransforms` when training starts, so every
later epoch replays those steps from memory; the random transforms after them
run every time and the samples stay bit-identical. The config keeps the plain
pipeline, which mmdet's ``analyze_results.py`` and ``browse_dataset.py`` read
as it is. The cache lives where the data is loaded: in the training process
without loader workers, in each worker with ``persistent_workers=True``; a
loader whose workers restart every epoch would fill it and throw it away each
epoch, so there the hook leaves the pipeline as it is and says so.
"""
from typing import Any, List

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import HOOKS

from ..datasets.cached_transforms import CachedTransforms, deterministic_head
from ..datasets.pipeline_info import datasets_with_pipeline

__all__ = ['PipelineCacheHook', 'cache_pipeline_head']


def cache_pipeline_head(dataset: Any, max_bytes: int = 2 * 1024**3) -> List[str]:
    """Wrap the leading deterministic transforms of each pipeline in
    ``dataset`` in one :class:`CachedTransforms` in place; return their names
    (none when a pipeline starts with a random transform or is already cached)."""
    try:
        owners = datasets_with_pipeline(dataset)
    except TypeError as err:
        raise TypeError(f'PipelineCacheHook: the train dataset {err} to cache') from None
    names: List[str] = []
    for owner in owners:
        transforms = owner.pipeline.transforms
        head = deterministic_head(transforms)
        if head:
            transforms[:len(head)] = [CachedTransforms(head, max_bytes=max_bytes)]
        names += [type(t).__name__ for t in head]
    return list(dict.fromkeys(names))


@HOOKS.register_module()
class PipelineCacheHook(Hook):
    """Apply :func:`cache_pipeline_head` to the train dataset before training.

    Config: ``custom_hooks = [..., dict(type='PipelineCacheHook')]`` (with
    ``mnext_det.engine`` in ``custom_imports``). For datasets whose resized
    images fit in memory (``max_bytes``, 2 GiB by default, per loading
    process; the demo's 3000 images at 160 px take 230 MB), not for COCO.
    """

    def __init__(self, max_bytes: int = 2 * 1024**3) -> None:
        self.max_bytes = max_bytes

    def before_train(self, runner) -> None:
        loader = runner.train_dataloader
        if loader.num_workers > 0 and not loader.persistent_workers:
            print_log(f'PipelineCacheHook: not caching: the train loader\'s '
                      f'{loader.num_workers} worker(s) restart every epoch '
                      '(persistent_workers=False) and would drop the cache each time',
                      logger='current')
            return
        names = cache_pipeline_head(loader.dataset, self.max_bytes)
        print_log('train pipeline steps run once per image and replayed from memory: '
                  + (', '.join(names) or 'none (the pipeline starts with a random transform '
                     'or is cached already)'), logger='current')
