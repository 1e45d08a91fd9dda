"""Refuse to evaluate with a class list that differs from the trained one."""
from typing import Optional, Sequence, Tuple

from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ..engine.unwrap import unwrap_model

__all__ = ['ClassListCheckHook']


@HOOKS.register_module()
class ClassListCheckHook(Hook):
    """Check before every val/test epoch that the dataset's ``classes`` equal,
    in order, those the model was trained on (and before training, that a
    classifier's ``num_classes`` is their count): the loaded checkpoint's
    ``meta.dataset_meta.classes`` (written by mmengine's Runner), or the
    training dataset's during training.

    A class list in another order (e.g. a hand-written list for a flat val
    folder) would map every label to the wrong output and report a silently
    wrong accuracy; this raises ``ValueError`` instead.
    """
    priority = 'LOW'

    def __init__(self) -> None:
        self.reference: Optional[Tuple[str, ...]] = None
        self.source = ''

    def before_train(self, runner) -> None:
        """Take the training classes as the reference, and refuse a
        classifier with another number of outputs (a 5-way head trained and
        scored on 3 classes without a word)."""
        classes = _classes(runner.train_dataloader.dataset)
        self._set(classes, 'the training dataset')
        outputs = getattr(unwrap_model(runner.model), 'num_classes', None)
        if isinstance(outputs, int) and classes and outputs != len(classes):
            raise ValueError(
                f'model.num_classes is {outputs} but train_dataloader.dataset has '
                f'{len(classes)} classes ({_first(classes)}); set model.num_classes='
                f'{len(classes)}')

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Take the checkpoint's training classes as the reference."""
        meta = (checkpoint.get('meta') or {}).get('dataset_meta') or {}
        self._set(meta.get('classes'), 'the checkpoint (meta.dataset_meta.classes)')

    def before_val_epoch(self, runner) -> None:
        self._check(runner.val_dataloader.dataset, 'val_dataloader')
        _voc_table_names(runner.val_loop.evaluator, runner.val_dataloader.dataset)

    def before_test_epoch(self, runner) -> None:
        self._check(runner.test_dataloader.dataset, 'test_dataloader')
        _voc_table_names(runner.test_loop.evaluator, runner.test_dataloader.dataset)

    def _set(self, classes: Optional[Sequence[str]], source: str) -> None:
        if classes:
            self.reference, self.source = tuple(classes), source

    def _check(self, dataset, name: str) -> None:
        classes = _classes(dataset)
        if self.reference is None or classes is None or tuple(classes) == self.reference:
            return
        ref, got = self.reference, tuple(classes)
        diff = next((i for i, (a, b) in enumerate(zip(ref, got)) if a != b),
                    min(len(ref), len(got)))
        raise ValueError(
            f'{name}.dataset has {len(got)} classes that differ from the {len(ref)} of '
            f'{self.source} (first difference at index {diff}: '
            f'{got[diff] if diff < len(got) else None!r} vs '
            f'{ref[diff] if diff < len(ref) else None!r}); label indices would not match '
            "the model's outputs. Use the training class list (ImageFolderDataset: "
            "classes='train'; a detection dataset: metainfo=dict(classes=...)).")


def _voc_table_names(evaluator, dataset) -> None:
    """mmdet's ``VOCMetric`` prints its per-class table with VOC's 20 names
    whenever the dataset is marked ``VOC2007``/``VOC2012`` (a ``VOC2007/``
    folder), whatever classes it has: six shape classes were printed as
    aeroplane, bicycle, ... Such data gets its own names in the table."""
    voc = getattr(type(dataset), 'METAINFO', {}).get('classes')
    for metric in getattr(evaluator, 'metrics', []):
        meta = getattr(metric, 'dataset_meta', None) or {}
        if (type(metric).__name__ == 'VOCMetric'
                and meta.get('dataset_type') in ('VOC2007', 'VOC2012')
                and tuple(meta.get('classes') or ()) != tuple(voc or ())):
            metric.dataset_meta = dict(meta, dataset_type=None)


def _first(classes: Sequence[str], limit: int = 5) -> str:
    return ', '.join(classes[:limit]) + (', ...' if len(classes) > limit else '')


def _classes(dataset) -> Optional[Sequence[str]]:
    return getattr(dataset, 'metainfo', {}).get('classes')
