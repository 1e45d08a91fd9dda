"""The demo's configs, rewritten for one run: its data folder, its schedule
(``--epochs``, ``--quick``), its data-loader workers and the pretrained
backbone of stage 2."""
from typing import Dict, List, Optional

from mmengine.config import Config

__all__ = ['cosine_schedule', 'pretrain_config', 'detector_config']

_QUICK_WARMUP_ITERS = 2
_LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def cosine_schedule(max_epochs: int, warmup_iters: int) -> List[Dict]:
    """Linear warm-up over ``warmup_iters`` iterations, then cosine decay to 0."""
    return [
        dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=warmup_iters),
        dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0, by_epoch=True, begin=0,
             end=max_epochs, convert_to_iter_based=True),
    ]


def _set_schedule(cfg: Config, epochs: Optional[int], quick: bool, warmup_iters: int,
                  quick_batch: int) -> None:
    """``epochs`` or ``quick``: a cosine schedule over the epochs; ``quick``
    also a small batch."""
    if epochs is not None or quick:
        epochs = epochs or 1
        cfg.train_cfg.max_epochs = epochs
        cfg.param_scheduler = cosine_schedule(
            epochs, _QUICK_WARMUP_ITERS if quick else warmup_iters)
    if quick:
        cfg.train_dataloader.batch_size = quick_batch


def _set_workers(cfg: Config, workers: Optional[int]) -> None:
    """``workers`` data-loader processes for every loader (``None``: the config's)."""
    if workers is None:
        return
    for loader in _LOADERS:
        cfg[loader].num_workers = workers
        cfg[loader].persistent_workers = workers > 0


def pretrain_config(src: str, crops_root: str, out: str, epochs: Optional[int],
                    quick: bool, workers: Optional[int] = None) -> str:
    """Dump the crop-pretraining config ``src`` to ``out`` reading ``crops_root``
    with ``workers`` loader processes (``None``: the config's)."""
    cfg = Config.fromfile(src)
    for loader in _LOADERS:
        cfg[loader].dataset.data_root = crops_root
    _set_schedule(cfg, epochs, quick, warmup_iters=20, quick_batch=16)
    _set_workers(cfg, workers)
    cfg.dump(out)
    return out


def detector_config(src: str, data_root: str, out: str, epochs: Optional[int],
                    backbone_ckpt: Optional[str], quick: bool,
                    workers: Optional[int] = None) -> str:
    """Dump the detector config ``src`` to ``out`` with the shapes data under
    ``data_root``, ``workers`` loader processes (``None``: the config's) and,
    if given, the backbone initialised from ``backbone_ckpt``."""
    cfg = Config.fromfile(src)
    root = data_root.rstrip('/') + '/'
    for loader in _LOADERS:
        cfg[loader].dataset.data_root = root
    for evaluator in ('val_evaluator', 'test_evaluator'):
        cfg[evaluator].ann_file = root + 'annotations/instances_val.json'
    _set_schedule(cfg, epochs, quick, warmup_iters=50, quick_batch=4)
    _set_workers(cfg, workers)
    if backbone_ckpt:
        cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=backbone_ckpt,
                                           prefix='backbone.')
    cfg.dump(out)
    return out
