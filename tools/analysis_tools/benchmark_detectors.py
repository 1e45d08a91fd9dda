"""Training throughput and inference latency of detectors, in one run.

    python tools/analysis_tools/benchmark_detectors.py [CONFIG ...] [--batch-size 8]
        [--train-iters 5] [--infer-runs 20] [--warmup 2] [--threads N]
        [--memory-format nchw|channels_last|both] [--compile] [--torch-relu6]
        [--mmdet-anchors] [--mmdet-loss] [--fused-bn] [--pointwise-matmul]
        [--depthwise-kernel] [--depthwise-separate] [--fixed OPTION ...]
        [--device cpu|cuda] [--amp]

Default configs: the SSDLite-MobileNetV2 baseline and SSDLite-MobileNeXt-1.0
COCO configs (320 input). Each detector gets the same synthetic batch at its
config's test input size: training img/s of a full ``train_step``, and the
median batch-1 latency of the raw forward (no NMS) and of the full
``predict`` (with NMS) (``mnext_det/analysis/detector_benchmark.py``).
``--memory-format both`` measures every config in the default (NCHW) and the
channels-last format (``ChannelsLastHook``), one row each; ``--compile`` adds
a row per variant with the train step compiled as ``tools/train.py --compile``
does; ``--torch-relu6`` adds a row per variant with torch's ``nn.ReLU6`` in
place of the configs' ``InplaceReLU6`` (``mnext_det/models/activations.py``),
which measures what that saves; ``--mmdet-anchors`` adds a row per variant whose
head rebuilds its anchors every step as mmdet's ``AnchorHead`` does, which
measures what ``SSDLiteHead``'s kept anchors save; ``--mmdet-loss`` adds a row per
variant whose head computes its loss image by image as mmdet's ``SSDHead`` does
(``batch_loss=False``), which measures what the batch loss saves; ``--fused-bn`` adds a row per
variant with batch norm and ReLU6 in one CPU kernel (``FusedBatchNormHook``,
``mnext_det/engine/fused_batch_norm.py``); ``--pointwise-matmul`` adds a row per
variant with its stride-1 1x1 convs trained as matrix products
(``PointwiseMatmulHook``); ``--depthwise-kernel`` adds a row per variant with its
3x3 depthwise convs trained by the C++ kernel (``DepthwiseConvHook``; each with its batch
norm as one op where ``--fused-bn`` holds too); ``--depthwise-separate`` adds a row per
variant with both kernels whose depthwise convs and batch norms run as separate ops
(``DepthwiseConvHook(with_norm=False)``). ``--fixed OPTION ...`` sets those options
(``fused_bn``, ``depthwise_kernel``, ... as the ``Variant`` fields are named) on every row
instead of adding rows, e.g. to measure one option on top of the demo's training setup
(``--fixed fused_bn pointwise_matmul depthwise_kernel``). ``--device cuda`` runs every
model on the GPU (each step timed to the end of its kernels); ``--amp`` (CUDA only) adds a
row per variant with mmengine's ``AmpOptimWrapper`` as ``tools/train.py --amp``.
Training steps are interleaved across the rows (one step of each per
round), each row with the 10th-90th percentile of its steps.
Prints a Markdown table and every figure's ratio to the first row, then
each row's train speed against every row that differs from it in one thing
only (the config, or one option), paired round by round. A benchmark, not a
test: figures depend on the machine and its load.
"""
import argparse
import itertools
import os.path as osp

import torch

from mnext_det.analysis.detector_benchmark import (DEFAULT_CONFIGS, Variant, benchmark_detectors,
                                                   format_pairs, format_table)
from mnext_det.engine.allocator import reexec_under_tcmalloc
from mnext_det.tool_args import require_at_least, require_device
from mnext_det.tool_errors import run_tool

_FORMATS = {'nchw': [False], 'channels_last': [True], 'both': [False, True]}
# each option that adds a row per variant, named as its Variant field, with its --help
_ROW_OPTIONS = {
    'torch_relu6': "also each variant with nn.ReLU6 instead of the configs' InplaceReLU6",
    'amp': 'also each variant in mixed precision (AmpOptimWrapper; CUDA only)',
    'mmdet_anchors': "also each variant with mmdet's anchors rebuilt every step",
    'mmdet_loss': "also each variant with mmdet's per-image SSD loss",
    'fused_bn': 'also each variant with batch norm and ReLU6 fused (FusedBatchNormHook)',
    'pointwise_matmul': 'also each variant with 1x1 convs trained as matrix products '
                        '(PointwiseMatmulHook)',
    'depthwise_kernel': 'also each variant with 3x3 depthwise convs trained by the C++ kernel '
                        '(DepthwiseConvHook)',
    'depthwise_separate': 'also each variant with both kernels with its depthwise convs and '
                          'batch norms as separate ops',
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='*', default=list(DEFAULT_CONFIGS))
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--train-iters', type=int, default=5)
    parser.add_argument('--infer-runs', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--threads', type=int, default=None, help='torch threads')
    parser.add_argument('--memory-format', choices=tuple(_FORMATS),
                        default='nchw', help='tensor layout of the models')
    parser.add_argument('--compile', action='store_true',
                        help='also each variant with torch.compile of the train step')
    for name, help_text in _ROW_OPTIONS.items():
        parser.add_argument(f'--{name.replace("_", "-")}', action='store_true', help=help_text)
    parser.add_argument('--fixed', nargs='+', choices=list(_ROW_OPTIONS), default=[],
                        metavar='OPTION',
                        help=f'options set on every row instead of adding rows: '
                             f'{", ".join(_ROW_OPTIONS)}')
    parser.add_argument('--device', choices=('cpu', 'cuda'), default='cpu')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    require_at_least(args, batch_size=1, train_iters=1, infer_runs=1, warmup=0, threads=1)
    require_device(args)
    if args.amp and args.device != 'cuda':
        raise ValueError("--amp needs --device cuda (mmengine's AmpOptimWrapper is GPU-only)")
    reexec_under_tcmalloc()
    if args.threads:
        torch.set_num_threads(args.threads)
    missing = [c for c in args.configs if not osp.isfile(c)]
    if missing:
        raise FileNotFoundError(f'config file not found: {", ".join(missing)}')
    both = [name for name in args.fixed if getattr(args, name)]
    if both:
        raise ValueError(f'--fixed {both[0]} and --{both[0].replace("_", "-")}: an option is '
                         'either on every row or adds rows, not both')
    # each flag that adds a row per variant, named as its Variant field
    toggles = [[True] if name in args.fixed else [False, True] if getattr(args, name) else [False]
               for name in _ROW_OPTIONS]
    variants = [Variant(c, f, comp, **dict(zip(_ROW_OPTIONS, flags)))
                for comp in ([False, True] if args.compile else [False])
                for c in args.configs for f in _FORMATS[args.memory_format]
                for flags in itertools.product(*toggles)]
    # separate ops only differ from one where both kernels run
    variants = [v for v in variants
                if not v.depthwise_separate or (v.fused_bn and v.depthwise_kernel)]
    if not variants:
        raise ValueError('--fixed depthwise_separate needs --fixed fused_bn depthwise_kernel '
                         '(the two ops are separate without them anyway)')
    print(f'[benchmark] {len(variants)} variants, {args.train_iters} interleaved training '
          'rounds', flush=True)
    rows = benchmark_detectors(variants, args.batch_size, args.train_iters, args.infer_runs,
                               args.warmup, args.device)
    print('\n' + format_table(rows, torch.get_num_threads(), args.batch_size, args.device))
    pairs = format_pairs(rows)
    if pairs:
        print('\n' + pairs)


if __name__ == '__main__':
    run_tool(main)
