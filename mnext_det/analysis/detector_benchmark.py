"""Training throughput and inference latency of detectors on synthetic batches
(``tools/analysis_tools/benchmark_detectors.py``).

Each detector gets the same synthetic batch (random images, 3 random boxes
each) at its config's test input size: training is the median seconds of a
full ``train_step`` (forward, loss, backward, SGD step) -> images per second;
inference the median batch-1 latency of the raw forward (no NMS) and of the
full ``predict`` (with NMS). Needs mmdet.
"""
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import torch

from .timing import median_time

__all__ = ['DEFAULT_CONFIGS', 'benchmark_detector', 'format_table']

DEFAULT_CONFIGS = ('configs/ssdlite/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py',
                   'configs/ssdlite/ssdlite_mobilenext-100-scratch_8xb24-600e_coco.py')


def _batch(n: int, size: Tuple[int, int], num_classes: int, seed: int = 0) -> Dict:
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


def benchmark_detector(config: str, channels_last: bool = False, batch_size: int = 8,
                       train_iters: int = 5, infer_runs: int = 20, warmup: int = 2) -> Dict:
    """One table row of ``config``'s detector (default init: speed does not
    depend on the weights), optionally in the channels-last layout."""
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope

    from ..datasets.pipeline_info import input_size_of
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    from mmdet.registry import MODELS
    model = MODELS.build(cfg.model)
    if channels_last:
        from ..engine import to_channels_last
        to_channels_last(model)
    size = input_size_of(cfg)
    num_classes = cfg.model.bbox_head.num_classes
    optim = build_optim_wrapper(model, dict(type='OptimWrapper', optimizer=dict(
        type='SGD', lr=1e-4, momentum=0.9)))
    data = _batch(batch_size, size, num_classes)
    model.train()
    step_s = median_time(lambda: model.train_step(data, optim), train_iters, warmup)
    model.eval()
    one = _batch(1, size, num_classes, seed=1)
    x = model.data_preprocessor(one, False)
    with torch.no_grad():
        fwd_s = median_time(lambda: model._forward(x['inputs']), infer_runs, warmup)
        pred_s = median_time(lambda: model.test_step(one), infer_runs, warmup)
    name = osp.splitext(osp.basename(config))[0] + (' (channels_last)' if channels_last else '')
    return dict(name=name, input=f'{size[0]}x{size[1]}',
                params_M=sum(p.numel() for p in model.parameters()) / 1e6,
                train_img_s=batch_size / step_s, forward_ms=fwd_s * 1000,
                predict_ms=pred_s * 1000)


def format_table(rows: Sequence[Dict], threads: int, batch_size: int) -> str:
    """The rows as a Markdown table under a line naming the setting, every
    figure with its ratio to the first row."""
    base = rows[0]
    lines: List[str] = [
        f'CPU, {threads} torch threads, training batch {batch_size}; '
        f'ratios are to {base["name"]}', '',
        '| model | input | params (M) | train img/s | forward ms (bs 1) | '
        'predict ms (bs 1, NMS) |', '|---|---|---|---|---|---|']
    for row in rows:
        lines.append(
            f'| {row["name"]} | {row["input"]} | {row["params_M"]:.2f} | '
            f'{row["train_img_s"]:.1f} (x{row["train_img_s"] / base["train_img_s"]:.2f}) | '
            f'{row["forward_ms"]:.1f} (x{row["forward_ms"] / base["forward_ms"]:.2f}) | '
            f'{row["predict_ms"]:.1f} (x{row["predict_ms"] / base["predict_ms"]:.2f}) |')
    return '\n'.join(lines)
