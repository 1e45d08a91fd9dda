"""A training loader that gives no batch stops the run, naming what to set."""
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

__all__ = ['EmptyEpochCheckHook', 'check_train_batches']


def check_train_batches(loader) -> None:
    """Raise ``ValueError`` when ``loader`` yields no batch: fewer samples
    per process than ``batch_size`` with ``drop_last=True``. mmengine then
    fails converting an epoch-based schedule (``epoch_length must be a
    positive integer, but got 0``) or, without one, runs every epoch without
    a step, validates (and saves as the best) the initial weights and exits 0."""
    if len(loader) > 0:
        return
    batch_sampler = loader.batch_sampler
    batch = loader.batch_size or getattr(batch_sampler, 'batch_size', None)
    drop_last = getattr(batch_sampler, 'drop_last', getattr(loader, 'drop_last', None))
    samples = len(loader.sampler)
    raise ValueError(
        f'train_dataloader gives no batch: {samples} sample(s) per process ('
        f'{len(loader.dataset)} in its dataset) and batch_size {batch} with '
        f'drop_last={drop_last}; set train_dataloader.batch_size={max(samples, 1)} or less, '
        'or give it more data')


@HOOKS.register_module()
class EmptyEpochCheckHook(Hook):
    """:func:`check_train_batches` before the first epoch, for runs started
    without ``tools/train.py`` (which checks before the schedulers are built)."""

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        check_train_batches(runner.train_dataloader)
