"""Training throughput and inference latency of detectors on synthetic batches
(``tools/analysis_tools/benchmark_detectors.py``).

Each detector gets the same synthetic batch (random images, 3 random boxes
each) at its config's test input size: training is the median seconds of a
full ``train_step`` (forward, loss, backward, the config's optimizer step)
-> images per second; inference the median batch-1 latency of the raw
forward (no NMS) and of the full ``predict`` (with NMS). Needs mmdet.
"""
import functools
import os.path as osp
import types
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, NamedTuple, Sequence, Tuple

import torch

from .complexity import count_params
from .timing import Spread, machine_summary, median_time, paired_ratio, time_interleaved

__all__ = ['DEFAULT_CONFIGS', 'Variant', 'build_detector', 'synthetic_batch',
           'benchmark_detectors', 'format_table', 'format_pairs']

DEFAULT_CONFIGS = ('configs/ssdlite/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py',
                   'configs/ssdlite/ssdlite_mobilenext-100-scratch_8xb24-600e_coco.py')


def build_detector(config: str, channels_last: bool = False, device: str = 'cpu',
                   amp: bool = False) -> Tuple[torch.nn.Module, Any, Tuple[int, int]]:
    """``(model, optim_wrapper, (w, h))`` of ``config``'s detector on ``device`` with
    its default init (speed does not depend on the weights) and the config's own
    optimizer, parameter groups and kernel (``foreach``/``fused``), as training
    builds them; ``amp`` in mixed precision as ``tools/train.py --amp`` (CUDA
    only)."""
    from mmengine.optim import build_optim_wrapper

    from ..datasets.pipeline_info import input_size_of
    from ..deploy.builder import build_model
    from ..engine.launch import with_amp
    model, cfg = build_model(config)
    model.to(device)
    if channels_last:
        from ..engine import to_channels_last
        to_channels_last(model)
    optim = build_optim_wrapper(model, with_amp(cfg.optim_wrapper) if amp else cfg.optim_wrapper)
    return model, optim, input_size_of(cfg)


def synthetic_batch(model: torch.nn.Module, size: Tuple[int, int], n: int,
                    seed: int = 0) -> Dict:
    """``n`` random images of ``size`` (w, h) with 3 random boxes each, for
    ``model``'s classes."""
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
            labels=torch.randint(0, model.bbox_head.num_classes, (3, ), generator=gen))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


@dataclass
class _Bench:
    variant: 'Variant'
    name: str
    model: torch.nn.Module
    optim: Any
    size: Tuple[int, int]
    data: Dict


class Variant(NamedTuple):
    """One benchmarked detector: ``config`` in channels-last format or not,
    its train step compiled or not, with ``torch_relu6`` every ``InplaceReLU6``
    run as the ``nn.ReLU6`` it replaces (to measure it), with ``amp`` in mixed
    precision (CUDA), with ``mmdet_anchors`` the head's anchors rebuilt every
    step by mmdet's ``AnchorHead.get_anchors`` instead of ``SSDLiteHead``'s kept
    ones (to measure them), with ``mmdet_loss`` the head's loss computed image
    by image as mmdet's ``SSDHead`` does (``batch_loss=False``), with
    ``fused_bn`` every batch norm and its ReLU6 in one kernel as
    ``FusedBatchNormHook`` trains them, with ``pointwise_matmul``
    every stride-1 1x1 conv trained as a matrix product (``PointwiseMatmulHook``),
    with ``depthwise_kernel`` every 3x3 depthwise conv trained by the C++ kernel
    (``DepthwiseConvHook``; with ``fused_bn`` too, each with its batch norm as
    one op), with ``depthwise_separate`` those two as separate ops
    (``DepthwiseConvHook(with_norm=False)``, to measure what one op saves)."""
    config: str
    channels_last: bool = False
    compiled: bool = False
    torch_relu6: bool = False
    amp: bool = False
    mmdet_anchors: bool = False
    mmdet_loss: bool = False
    fused_bn: bool = False
    pointwise_matmul: bool = False
    depthwise_kernel: bool = False
    depthwise_separate: bool = False


def _prepare(variant: Variant, batch_size: int, device: str) -> _Bench:
    from ..models.activations import InplaceReLU6
    model, optim, size = build_detector(variant.config, variant.channels_last, device,
                                        variant.amp)
    if variant.torch_relu6:
        for module in model.modules():
            if type(module) is InplaceReLU6:
                module.__class__ = torch.nn.ReLU6
    if variant.mmdet_anchors:
        from mmdet.models.dense_heads import AnchorHead
        model.bbox_head.get_anchors = types.MethodType(AnchorHead.get_anchors, model.bbox_head)
    if variant.mmdet_loss:
        model.bbox_head.batch_loss = False
    if variant.fused_bn:
        from ..engine.fused_batch_norm import fuse_batch_norm
        fuse_batch_norm(model)
    if variant.pointwise_matmul:
        from ..engine.pointwise_matmul import pointwise_as_matmul
        pointwise_as_matmul(model)
    if variant.depthwise_kernel:
        from ..engine.depthwise_conv import depthwise_as_kernel
        depthwise_as_kernel(model, with_norm=not variant.depthwise_separate)
    if variant.compiled:  # as mmengine's cfg.compile (tools/train.py --compile) does
        from ..engine.launch import compile_options
        model.train_step = torch.compile(model.train_step, **compile_options())
    name = osp.splitext(osp.basename(variant.config))[0]
    name += ''.join(f' ({tag})' for tag in Variant._fields[1:] if getattr(variant, tag))
    return _Bench(variant, name, model, optim, size, synthetic_batch(model, size, batch_size))


def _synced(fn: Callable[[], object], device: str) -> Callable[[], object]:
    """``fn`` that returns once the device has finished its work (CUDA runs async)."""
    if device == 'cpu':
        return fn

    def run() -> object:
        out = fn()
        torch.cuda.synchronize(device)
        return out
    return run


def benchmark_detectors(variants: Sequence[Variant], batch_size: int = 8,
                        train_iters: int = 5, infer_runs: int = 20,
                        warmup: int = 2, device: str = 'cpu') -> List[Dict]:
    """One table row per variant, every model on ``device`` (``cpu`` or ``cuda``).

    Training steps are interleaved (one step of each variant per round, after
    ``warmup`` rounds, which also absorb compilation), so a drift of the
    machine's speed hits every variant alike; each row holds the median and
    the 10th-90th percentile of its steps. Inference (eager, batch 1) is timed
    variant after variant."""
    benches = [_prepare(v, batch_size, device) for v in variants]
    for bench in benches:
        bench.model.train()
    steps = time_interleaved(
        {i: _synced(functools.partial(b.model.train_step, b.data, b.optim), device)
         for i, b in enumerate(benches)}, train_iters, warmup)
    rows = []
    for i, bench in enumerate(benches):
        times = steps[i]
        model = bench.model.eval()
        one = synthetic_batch(model, bench.size, 1, seed=1)
        x = model.data_preprocessor(one, False)
        with torch.no_grad():
            fwd_s = median_time(_synced(lambda: model._forward(x['inputs']), device),
                                infer_runs, warmup)
            pred_s = median_time(_synced(lambda: model.test_step(one), device), infer_runs,
                                 warmup)
        spread = Spread.of([batch_size / t for t in times])
        paired = paired_ratio(steps[0], times)  # base step / step: speed relative to row 0
        rows.append(dict(name=bench.name, input=f'{bench.size[0]}x{bench.size[1]}',
                         params_M=count_params(model) / 1e6,
                         train_img_s=spread.median, train_img_s_p10=spread.p10,
                         train_img_s_p90=spread.p90, train_ratio=paired.median,
                         train_ratio_p10=paired.p10, train_ratio_p90=paired.p90,
                         forward_ms=fwd_s * 1000, predict_ms=pred_s * 1000,
                         variant=bench.variant, step_s=times))
    return rows


def format_table(rows: Sequence[Dict], threads: int, batch_size: int,
                 device: str = 'cpu') -> str:
    """The rows as a Markdown table under a line naming the setting (the GPU
    for ``cuda``), every figure with its ratio to the first row."""
    base = rows[0]
    where = (f'GPU {torch.cuda.get_device_name(device)}, CPU' if device != 'cpu' else 'CPU')
    lines: List[str] = [
        f'{where} ({machine_summary()}), {threads} torch threads, training batch {batch_size}; '
        f'ratios are to {base["name"]}; the train ratio is the median of per-round ratios '
        '(one step of every row per round), with their p10-p90', '',
        '| model | input | params (M) | train img/s (p10-p90) | forward ms (bs 1) | '
        'predict ms (bs 1, NMS) |', '|---|---|---|---|---|---|']
    for i, row in enumerate(rows):
        ratio = (f'x{row["train_ratio"]:.2f}' if i == 0 else
                 f'x{row["train_ratio"]:.2f}, {row["train_ratio_p10"]:.2f}-'
                 f'{row["train_ratio_p90"]:.2f}')
        lines.append(
            f'| {row["name"]} | {row["input"]} | {row["params_M"]:.2f} | '
            f'{row["train_img_s"]:.1f} ({row["train_img_s_p10"]:.1f}-{row["train_img_s_p90"]:.1f}) '
            f'({ratio}) | '
            f'{row["forward_ms"]:.1f} (x{row["forward_ms"] / base["forward_ms"]:.2f}) | '
            f'{row["predict_ms"]:.1f} (x{row["predict_ms"] / base["predict_ms"]:.2f}) |')
    return '\n'.join(lines)


def format_pairs(rows: Sequence[Dict]) -> str:
    """A Markdown table of the train speed of every row against each row that
    differs from it in one thing only (the config, or one option), as the
    median and p10-p90 of their per-round ratios: what that one thing is worth,
    measured side by side. Empty when no two rows differ so."""
    lines: List[str] = []
    for i, row in enumerate(rows):
        for other in rows[:i]:
            diff = [f for f in Variant._fields
                    if getattr(row['variant'], f) != getattr(other['variant'], f)]
            if len(diff) != 1:
                continue
            ratio = paired_ratio(other['step_s'], row['step_s'])  # other's step / row's: speed
            lines.append(f'| {row["name"]} | {other["name"]} | x{ratio.median:.3f} '
                         f'({ratio.p10:.3f}-{ratio.p90:.3f}) |')
    if not lines:
        return ''
    return '\n'.join(['Rows that differ in one thing, train speed of the first against the '
                      'second (median and p10-p90 of the per-round ratios)', '',
                      '| row | against | train speed |', '|---|---|---|', *lines])
