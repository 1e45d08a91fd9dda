"""Training engine pieces for long, unattended runs: crash-safe checkpoints
with random state, non-finite loss handling, channels-last training, merged
optimizer parameter groups, depthwise convs padded first on maps smaller than
their kernel, batch norm and ReLU6 fused into one CPU kernel, 3x3 depthwise
convs trained by a CPU kernel, 1x1 convs trained as matrix products, the
train pipeline's decoding cached across epochs, a check that an ``init_cfg``
Pretrained loaded its checkpoint, and multi-process CPU training with a
bounded exit when a rank dies.

Importing this package registers its hooks, the optimizer constructor, the
``local_atomic`` file backend and the ``CPUAwareDistributedDataParallel``
wrapper with mmengine.
Needs mmengine only (the fused batch norm and the depthwise conv build their C++
kernels on first use).
"""
from .atomic_io import AtomicLocalBackend, atomic_write_bytes, atomic_write_text
from .channels_last import ChannelsLastHook, to_channels_last
from .checkpoint_hook import SafeCheckpointHook
from .fused_batch_norm import ClipInNorm, FusedBatchNormAct2d, FusedBatchNormHook, fuse_batch_norm
from .merged_param_groups import MergedParamGroupsConstructor, merge_param_groups
from .distributed import (PEER_FAILURE_EXIT_CODE, CPUAwareDistributedDataParallel,
                          configure_cpu_distributed, exit_on_peer_failure,
                          init_cpu_process_group, is_peer_failure)
from .empty_epoch import EmptyEpochCheckHook, check_train_batches
from .nonfinite import NonFiniteLossError, NonFiniteLossHook
from .random_state import RandomStateHook, get_random_state, set_random_state
from .small_map_depthwise import (PadFirstDepthwiseConv2d, SmallMapDepthwiseHook,
                                  pad_small_depthwise)
from .depthwise_conv import (DepthwiseConvHook, DepthwiseNormSequential, KernelDepthwiseConv2d,
                             depthwise_as_kernel)
from .pointwise_matmul import MatmulPointwiseConv2d, PointwiseMatmulHook, pointwise_as_matmul
from .pipeline_cache import PipelineCacheHook, cache_pipeline_head
from .pretrained_check import PretrainedCheckHook
from .fault_tolerance import apply_fault_tolerance

__all__ = [
    'AtomicLocalBackend', 'atomic_write_bytes', 'atomic_write_text', 'SafeCheckpointHook',
    'ChannelsLastHook', 'to_channels_last', 'MergedParamGroupsConstructor', 'merge_param_groups',
    'CPUAwareDistributedDataParallel', 'configure_cpu_distributed', 'init_cpu_process_group',
    'exit_on_peer_failure', 'is_peer_failure', 'PEER_FAILURE_EXIT_CODE', 'NonFiniteLossError',
    'NonFiniteLossHook', 'RandomStateHook', 'get_random_state', 'set_random_state',
    'PadFirstDepthwiseConv2d', 'SmallMapDepthwiseHook', 'pad_small_depthwise',
    'PretrainedCheckHook', 'EmptyEpochCheckHook', 'check_train_batches', 'apply_fault_tolerance',
    'FusedBatchNormAct2d', 'ClipInNorm',
    'fuse_batch_norm', 'FusedBatchNormHook', 'MatmulPointwiseConv2d', 'pointwise_as_matmul',
    'PointwiseMatmulHook', 'KernelDepthwiseConv2d', 'DepthwiseNormSequential',
    'depthwise_as_kernel', 'DepthwiseConvHook',
    'PipelineCacheHook', 'cache_pipeline_head'
]
