"""Training throughput and inference latency of detectors, in one run.

    python tools/analysis_tools/benchmark_detectors.py [CONFIG ...] [--batch-size 8]
        [--train-iters 5] [--infer-runs 20] [--warmup 2] [--threads N]
        [--memory-format nchw|channels_last|both]

Default configs: the SSDLite-MobileNetV2 baseline and SSDLite-MobileNeXt-1.0
COCO configs (320 input). Each detector gets the same synthetic batch (random
images, 3 random boxes each) at its config's test input size:
- training: median seconds of a full ``train_step`` (forward, loss, backward,
  SGD step) -> images per second;
- inference: median batch-1 latency of the raw forward (no NMS) and of the
  full ``predict`` (with NMS).
``--memory-format both`` measures every config in the default (NCHW) and the
channels-last format (``ChannelsLastHook``), one row each.
Prints a Markdown table and every figure's ratio to the first row. A
benchmark, not a test: figures depend on the machine and its load.
"""
import argparse
import os.path as osp
import time
from typing import Dict, List

import numpy as np
import torch

import mnext_det  # noqa: F401

DEFAULT_CONFIGS = ('configs/ssdlite/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py',
                   'configs/ssdlite/ssdlite_mobilenext-100-scratch_8xb24-600e_coco.py')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='*', default=list(DEFAULT_CONFIGS))
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--train-iters', type=int, default=5)
    parser.add_argument('--infer-runs', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--threads', type=int, default=None, help='torch threads')
    parser.add_argument('--memory-format', choices=('nchw', 'channels_last', 'both'),
                        default='nchw', help='tensor layout of the models')
    return parser.parse_args()


def _batch(n: int, size, num_classes: int, seed: int = 0) -> Dict:
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    gen = torch.Generator().manual_seed(seed)
    w, h = size
    inputs, samples = [], []
    for _ in range(n):
        inputs.append((torch.rand(3, h, w, generator=gen) * 255).to(torch.uint8))
        xy = torch.rand(3, 2, generator=gen) * torch.tensor([w * 0.6, h * 0.6])
        wh = torch.rand(3, 2, generator=gen) * torch.tensor([w * 0.35, h * 0.35]) + 8
        sample = DetDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w),
                                             scale_factor=(1., 1.), pad_shape=(h, w),
                                             batch_input_shape=(h, w)))
        sample.gt_instances = InstanceData(
            bboxes=torch.cat([xy, xy + wh], 1),
            labels=torch.randint(0, num_classes, (3, ), generator=gen))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def _median_time(fn, runs: int, warmup: int) -> float:
    times = []
    for i in range(warmup + runs):
        t = time.perf_counter()
        fn()
        if i >= warmup:
            times.append(time.perf_counter() - t)
    return float(np.median(times))


def benchmark(config: str, channels_last: bool, args: argparse.Namespace) -> Dict:
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope

    from mnext_det.datasets.pipeline_info import input_size_of
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    from mmdet.registry import MODELS
    model = MODELS.build(cfg.model)  # default init: speed does not depend on weights
    if channels_last:
        from mnext_det.engine import to_channels_last
        to_channels_last(model)
    size = input_size_of(cfg)
    num_classes = cfg.model.bbox_head.num_classes
    optim = build_optim_wrapper(model, dict(type='OptimWrapper', optimizer=dict(
        type='SGD', lr=1e-4, momentum=0.9)))
    data = _batch(args.batch_size, size, num_classes)
    model.train()
    step_s = _median_time(lambda: model.train_step(data, optim), args.train_iters, args.warmup)
    model.eval()
    one = _batch(1, size, num_classes, seed=1)
    x = model.data_preprocessor(one, False)
    with torch.no_grad():
        fwd_s = _median_time(lambda: model._forward(x['inputs']), args.infer_runs, args.warmup)
        pred_s = _median_time(lambda: model.test_step(one), args.infer_runs, args.warmup)
    name = osp.splitext(osp.basename(config))[0] + (' (channels_last)' if channels_last else '')
    return dict(name=name, input=f'{size[0]}x{size[1]}',
                params_M=sum(p.numel() for p in model.parameters()) / 1e6,
                train_img_s=args.batch_size / step_s, forward_ms=fwd_s * 1000,
                predict_ms=pred_s * 1000)


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    formats = {'nchw': [False], 'channels_last': [True], 'both': [False, True]}
    runs = [(c, f) for c in args.configs for f in formats[args.memory_format]]
    rows: List[Dict] = []
    for i, (config, channels_last) in enumerate(runs):
        print(f'[benchmark] {i + 1}/{len(runs)} {config}'
              f'{" channels_last" if channels_last else ""}', flush=True)
        rows.append(benchmark(config, channels_last, args))
    base = rows[0]
    print(f'\nCPU, {torch.get_num_threads()} torch threads, training batch {args.batch_size}; '
          f'ratios are to {base["name"]}\n')
    print('| model | input | params (M) | train img/s | forward ms (bs 1) | '
          'predict ms (bs 1, NMS) |')
    print('|---|---|---|---|---|---|')
    for row in rows:
        print(f'| {row["name"]} | {row["input"]} | {row["params_M"]:.2f} | '
              f'{row["train_img_s"]:.1f} (x{row["train_img_s"] / base["train_img_s"]:.2f}) | '
              f'{row["forward_ms"]:.1f} (x{row["forward_ms"] / base["forward_ms"]:.2f}) | '
              f'{row["predict_ms"]:.1f} (x{row["predict_ms"] / base["predict_ms"]:.2f}) |')


if __name__ == '__main__':
    main()
