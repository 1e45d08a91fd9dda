"""MergedParamGroupsConstructor: mmengine's ``paramwise_cfg`` with one
parameter group per distinct setting instead of one per parameter.

mmengine's ``DefaultOptimWrapperConstructor`` gives every parameter its own
group once ``paramwise_cfg`` is set, so the optimizer's step runs its whole
update once per tensor (318 for SSDLite-MobileNeXt-0.5) and ``foreach`` /
``fused`` kernels get one tensor at a time. This constructor applies the same
rules and then merges the groups whose options are equal: the same update,
in one kernel call per group (``docs/deploy.md``, "Training"). The groups
reach the optimizer as plain dicts (mmengine's builder makes them
``ConfigDict``s, which ``torch.compile`` cannot trace through the optimizer
step: ``tools/train.py --compile`` failed with them).

    optim_wrapper = dict(constructor='MergedParamGroupsConstructor',
                         optimizer=dict(type='AdamW', lr=2e-3, fused=True),
                         paramwise_cfg=dict(norm_decay_mult=0.))
"""
from typing import Dict, List, Optional

from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS
from torch import nn

__all__ = ['MergedParamGroupsConstructor', 'merge_param_groups']


def merge_param_groups(groups: List[Dict]) -> List[Dict]:
    """Groups with equal options (every key but ``params``) as one group each,
    in the order of their first parameter."""
    merged: List[Dict] = []
    index: Dict[tuple, Dict] = {}
    for group in groups:
        options = tuple(sorted((k, repr(v)) for k, v in group.items() if k != 'params'))
        if options not in index:
            index[options] = dict(group, params=[])
            merged.append(index[options])
        index[options]['params'].extend(group['params'])
    return merged


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class MergedParamGroupsConstructor(DefaultOptimWrapperConstructor):
    """``DefaultOptimWrapperConstructor`` whose per-parameter groups are merged
    by equal options (:func:`merge_param_groups`)."""

    def add_params(self, params: List[Dict], module: nn.Module, prefix: str = '',
                   is_dcn_module: Optional[bool] = None) -> None:
        if prefix:
            super().add_params(params, module, prefix, is_dcn_module)
            return
        groups: List[Dict] = []
        super().add_params(groups, module, prefix, is_dcn_module)
        params.extend(merge_param_groups(groups))

    def __call__(self, model: nn.Module) -> OptimWrapper:
        wrapper = super().__call__(model)
        groups = wrapper.optimizer.param_groups
        groups[:] = [dict(group) for group in groups]
        return wrapper
