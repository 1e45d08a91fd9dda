"""Pretraining throughput: MobileNeXt-1.0 vs MobileNetV2-1.0 training steps,
and the training data pipeline alone.

    python tools/analysis_tools/benchmark_pretrain.py [--batch-size 32] [--iters 5]
        [--data-root DIR] [--workers 0 2] [--device cpu|cuda]

Model part: forward + loss + backward + SGD step of the pretraining
configs' classifiers at 224 px (data already on the device), the two models
measured in alternating rounds in one process; prints img/s each, the
ratio, and the median of the rounds. Data part: the training dataloader
of the config (decode, RandomResizedCrop, flip, ColorJitter, collate) over
``--data-root`` (an ImageFolder) or over generated ImageNet-sized JPEGs;
prints img/s per worker count and the workers needed to keep the faster
model busy (``mnext_det/analysis/pretrain_benchmark.py``). Figures depend on
the machine: report them with it.
"""
import argparse
import os.path as osp

import torch

from mnext_det.analysis.pretrain_benchmark import (bench_data, bench_models, format_data,
                                                   format_models)
from mnext_det.analysis.timing import machine_summary
from mnext_det.engine.allocator import reexec_under_tcmalloc
from mnext_det.tool_args import require_at_least, require_device
from mnext_det.tool_errors import run_tool


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--iters', type=int, default=5, help='train steps per round')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--channels-last', action='store_true')
    parser.add_argument('--data-root', help='ImageFolder root with train/ (default: '
                        'generated 500x375 JPEGs)')
    parser.add_argument('--num-images', type=int, default=512,
                        help='generated images when --data-root is not given')
    parser.add_argument('--workers', type=int, nargs='+', default=[0, 2])
    parser.add_argument('--data-batches', type=int, default=20)
    parser.add_argument('--skip-data', action='store_true')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    require_at_least(args, batch_size=1, iters=1, rounds=1, size=32, num_images=1, workers=0,
                     data_batches=1)
    require_device(args)
    reexec_under_tcmalloc()
    if args.data_root is not None and not args.skip_data and \
            not osp.isdir(osp.join(args.data_root, 'train')):
        raise FileNotFoundError(f'--data-root {args.data_root} has no train/ folder')
    print(f'device: {args.device} ({machine_summary()}; {torch.get_num_threads()} threads), '
          f'batch {args.batch_size}, {args.size} px, {args.rounds} rounds x {args.iters} steps')
    results = bench_models(args.batch_size, args.iters, args.rounds, args.size,
                           args.device, args.channels_last)
    print(format_models(results))
    if args.skip_data:
        return
    data = bench_data(args.data_root, args.workers, args.batch_size, args.data_batches,
                      args.num_images)
    print(format_data(data, results))


if __name__ == '__main__':
    run_tool(main)
