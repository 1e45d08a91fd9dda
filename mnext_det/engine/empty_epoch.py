"""``EmptyEpochCheckHook``: stop a run whose training loader gives no batch."""
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

__all__ = ['EmptyEpochCheckHook']


@HOOKS.register_module()
class EmptyEpochCheckHook(Hook):
    """Stop before the first epoch when ``train_dataloader`` yields no batch:
    fewer samples per process than ``batch_size`` with ``drop_last=True``.
    mmengine then runs every epoch without a step, validates (and saves as
    the best) the initial weights and exits 0."""

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        loader = runner.train_dataloader
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
