"""The smallest config that apply_fault_tolerance and the CPU distributed
setup change: a checkpoint hook, a custom hook, a training dataset, a launcher."""
from mmengine.config import Config


def runtime_cfg(**extra) -> Config:
    """That config, with ``extra`` top-level keys added or replaced."""
    base = dict(
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=2, max_keep_ckpts=3)),
        custom_hooks=[dict(type='EMAHook')],
        train_dataloader=dict(dataset=dict(type='CocoDataset', ann_file='a.json')),
        launcher='none')
    return Config(dict(base, **extra))
