"""Side-by-side evaluation of detectors: metrics, size, speed, reports.

Each detector is evaluated with mmengine's ``Runner.test`` on the *same*
dataset (the first detector's ``test_dataloader`` dataset and
``test_evaluator``; each keeps its own test pipeline), then measured for
parameters, multiply-adds at its input size and CPU forward latency. The first
detector is the baseline; reports give every other one's difference from it.
Needs mmdet (import it through tools or configs, not from ``mnext_det``).
"""
import copy
import glob
import json
import os
import os.path as osp
import re
import time
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.runner import Runner

from ..analysis.complexity import count_madds, count_params
from ..checkpoint import load_checkpoint_file
from ..datasets.pipeline_info import input_size_of

__all__ = ['DetectorResult', 'evaluate_detector', 'resolve_work_dir',
           'measure_latency', 'summary_rows', 'format_markdown', 'write_json', 'plot_chart',
           'draw_detections', 'SUMMARY_KEYS']

# (column, metric key suffix) for COCO and VOC evaluators
_COCO_KEYS = (('AP', 'bbox_mAP'), ('AP50', 'bbox_mAP_50'), ('AP75', 'bbox_mAP_75'),
              ('APs', 'bbox_mAP_s'), ('APm', 'bbox_mAP_m'), ('APl', 'bbox_mAP_l'),
              ('AR100', 'bbox_AR@100'), ('ARs', 'bbox_AR_s@1000'), ('ARm', 'bbox_AR_m@1000'),
              ('ARl', 'bbox_AR_l@1000'))
# CocoMetric items behind _COCO_KEYS; AR by size is at up to 1000 detections
# per image, so at the head's max_per_img (100 in our configs)
_COCO_ITEMS = ['mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l', 'AR@100', 'AR_s@1000',
               'AR_m@1000', 'AR_l@1000']
_VOC_KEYS = (('mAP', 'mAP'), ('AP50', 'AP50'))
SUMMARY_KEYS = ('params_M', 'madds_G', 'latency_ms')


@dataclass
class DetectorResult:
    """What :func:`evaluate_detector` measured for one detector."""

    name: str
    config: str
    checkpoint: str
    metrics: Dict[str, float]
    per_class: Dict[str, float] = field(default_factory=dict)
    params_M: float = 0.
    madds_G: float = 0.
    latency_ms: float = 0.
    input_size: Tuple[int, int] = (0, 0)
    eval_seconds: float = 0.
    confusion: Optional[List[List[float]]] = None


def resolve_work_dir(work_dir: str) -> Tuple[str, str]:
    """``(config, checkpoint)`` of a finished mmengine work dir: its dumped
    config and ``last_checkpoint`` (or newest ``*.pth``)."""
    if not osp.isdir(work_dir):
        raise FileNotFoundError(f'work dir not found: {work_dir}')
    configs = sorted(glob.glob(osp.join(work_dir, '*.py')))
    if not configs:
        raise FileNotFoundError(f'{work_dir}: no dumped config (*.py)')
    last = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(last):
        with open(last) as f:
            ckpt = f.read().strip()
        if not osp.isabs(ckpt) and not osp.isfile(ckpt):
            ckpt = osp.join(work_dir, osp.basename(ckpt))
    else:
        ckpts = sorted(glob.glob(osp.join(work_dir, '*.pth')), key=osp.getmtime)
        if not ckpts:
            raise FileNotFoundError(f'{work_dir}: no last_checkpoint and no *.pth')
        ckpt = ckpts[-1]
    if not osp.isfile(ckpt):
        raise FileNotFoundError(f'{work_dir}: checkpoint {ckpt} does not exist')
    if len(configs) == 1:
        return configs[0], ckpt
    # leftovers of earlier runs: the checkpoint's run is named '{config}_{timestamp}'
    meta = load_checkpoint_file(ckpt).get('meta', {})
    stem = re.sub(r'_\d{8}_\d{6}$', '', str(meta.get('experiment_name', '')))
    config = osp.join(work_dir, f'{stem}.py')
    if config not in configs:
        raise ValueError(f'{work_dir}: {len(configs)} dumped configs ({", ".join(configs)}) '
                         f'and {ckpt} names none of them (experiment {stem!r})')
    return config, ckpt


class _TensorForward(nn.Module):
    """Backbone + neck + head on a tensor (no post-processing)."""

    def __init__(self, detector: nn.Module) -> None:
        super().__init__()
        self.detector = detector

    def forward(self, x: torch.Tensor):
        return self.detector._forward(x)


def measure_latency(detector: nn.Module, input_size: Tuple[int, int], runs: int = 20,
                    warmup: int = 3, threads: int = 1) -> float:
    """Median CPU latency (ms) of one batch-1 forward without post-processing,
    on ``threads`` torch threads (1 by default: the mobile convention, and
    stable on a busy machine)."""
    net = _TensorForward(detector).eval()
    x = torch.rand(1, 3, input_size[1], input_size[0])
    times = []
    old_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.no_grad():
            for i in range(warmup + runs):
                t = time.perf_counter()
                net(x)
                if i >= warmup:
                    times.append(time.perf_counter() - t)
    finally:
        torch.set_num_threads(old_threads)
    return float(np.median(times) * 1000)


def _metric_prefix(metrics: Dict[str, float]) -> str:
    for key in metrics:
        if key.endswith('bbox_mAP'):
            return key[:-len('bbox_mAP')]
        if key.endswith('/mAP'):
            return key[:-len('mAP')]
    raise KeyError(f'no bbox_mAP or mAP among the metrics {sorted(metrics)}')


def evaluate_detector(config: str, checkpoint: str, name: Optional[str] = None,
                      work_dir: str = 'work_dirs/compare',
                      dataset_from: Optional[Config] = None,
                      cfg_options: Optional[Dict] = None,
                      latency_runs: int = 20, confusion: bool = False) -> DetectorResult:
    """Evaluate one detector and measure its size and speed.

    Args:
        config: Config file.
        checkpoint: Checkpoint file.
        name: Label in reports. Default: the config's file name.
        work_dir: Parent of the evaluation's work dir.
        dataset_from: A config whose test dataset (all but the pipeline) and
            test evaluator replace this config's, so several detectors are
            scored on the same split. Default: this config's own.
        cfg_options: Extra overrides merged into the config.
        latency_runs: Timed forward passes for the latency.
        confusion: Also count mmdet's confusion matrix of the predictions
            (``confusion_matrix.py``'s thresholds).
    """
    for path, what in ((config, 'config'), (checkpoint, 'checkpoint')):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{what} file not found: {path}')
    name = name or osp.splitext(osp.basename(config))[0]
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if dataset_from is not None:
        pipeline = cfg.test_dataloader.dataset.pipeline
        dataset = copy.deepcopy(dataset_from.test_dataloader.dataset)
        dataset.pipeline = pipeline
        cfg.test_dataloader.dataset = dataset
        cfg.test_evaluator = copy.deepcopy(dataset_from.test_evaluator)
    cfg.work_dir = osp.join(work_dir, name)
    cfg.experiment_name = f'{name}_{time.strftime("%Y%m%d_%H%M%S")}'
    cfg.load_from = checkpoint
    cfg.resume = False
    cfg.default_hooks.logger.interval = 5
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper', 'param_scheduler',
                'val_dataloader', 'val_cfg', 'val_evaluator'):
        cfg.pop(key, None)
    evaluators = [cfg.test_evaluator] if isinstance(cfg.test_evaluator, dict) else \
        list(cfg.test_evaluator)
    for evaluator in evaluators:
        if evaluator.get('type') == 'CocoMetric' and evaluator.get('metric_items') is None:
            evaluator['metric_items'] = _COCO_ITEMS
    results_file = osp.join(cfg.work_dir, 'results.pkl')
    if confusion:
        evaluators.append(dict(type='DumpResults', out_file_path=results_file))
    cfg.test_evaluator = evaluators
    start = time.time()
    runner = Runner.from_cfg(cfg)
    raw = runner.test()
    seconds = time.time() - start
    matrix = None
    if confusion:
        from mmengine.fileio import load

        from .mmdet_tools import confusion_matrix
        matrix = confusion_matrix(runner.test_dataloader.dataset, load(results_file)).tolist()
    prefix = _metric_prefix(raw)
    metrics = {k[len(prefix):]: float(v) for k, v in raw.items() if k.startswith(prefix)}
    per_class = {k[:-len('_precision')]: v for k, v in metrics.items()
                 if k.endswith('_precision')}
    metrics = {k: v for k, v in metrics.items() if not k.endswith('_precision')}
    model = runner.model
    size = input_size_of(cfg)
    return DetectorResult(
        name=name, config=config, checkpoint=checkpoint, metrics=metrics,
        per_class=per_class,
        params_M=count_params(model) / 1e6,
        madds_G=count_madds(_TensorForward(model), (1, 3, size[1], size[0])) / 1e9,
        latency_ms=measure_latency(model, size, runs=latency_runs),
        input_size=size, eval_seconds=seconds, confusion=matrix)


def _columns(results: Sequence[DetectorResult]) -> List[Tuple[str, str]]:
    keys = results[0].metrics
    return list(_COCO_KEYS) if 'bbox_mAP' in keys else list(_VOC_KEYS)


def summary_rows(results: Sequence[DetectorResult]) -> List[Dict[str, float]]:
    """One row per detector: metrics, size and speed, and the difference of
    each from the first (baseline) detector as ``d_<column>``."""
    if not results:
        raise ValueError('no results to compare')
    cols = _columns(results)
    rows = []
    for res in results:
        row = dict(name=res.name, input=f'{res.input_size[0]}x{res.input_size[1]}')
        for col, key in cols:
            row[col] = res.metrics.get(key, float('nan'))
        for key in SUMMARY_KEYS:
            row[key] = getattr(res, key)
        rows.append(row)
    base = rows[0]
    for row in rows:
        for col, _ in cols:
            row[f'd_{col}'] = row[col] - base[col]
        row['latency_ratio'] = row['latency_ms'] / base['latency_ms']
    return rows


def format_markdown(results: Sequence[DetectorResult]) -> str:
    """Markdown tables: summary (with differences from the baseline, the
    first row) and per-class AP."""
    rows = summary_rows(results)
    cols = [c for c, _ in _columns(results)]
    head = ['model', 'input'] + cols + ['params (M)', 'MAdds (G)', 'CPU latency (ms)']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for i, row in enumerate(rows):
        cells = [row['name'], row['input']]
        for col in cols:
            cells.append(f'{row[col]:.3f}' if i == 0 else
                         f'{row[col]:.3f} ({row[f"d_{col}"]:+.3f})')
        cells += [f'{row["params_M"]:.2f}', f'{row["madds_G"]:.3f}',
                  f'{row["latency_ms"]:.1f}' if i == 0 else
                  f'{row["latency_ms"]:.1f} (x{row["latency_ratio"]:.2f})']
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines.append('')
    lines.append(f'Differences in brackets are from the baseline `{rows[0]["name"]}`; '
                 'latency: median batch-1 forward (no NMS), one CPU thread.')
    classes = list(results[0].per_class)
    if classes:
        lines += ['', '| class | ' + ' | '.join(r.name for r in results) + ' |',
                  '|' + '---|' * (len(results) + 1)]
        for cls in classes:
            vals = [r.per_class.get(cls, float('nan')) for r in results]
            lines.append(f'| {cls} | ' + ' | '.join(f'{v:.3f}' for v in vals) + ' |')
    return '\n'.join(lines) + '\n'


def write_json(results: Sequence[DetectorResult], path: str,
               extra: Optional[Dict] = None) -> None:
    """Results, summary rows and ``extra`` (e.g. timings) as JSON."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    data = dict(results=[asdict(r) for r in results], summary=summary_rows(results))
    if extra:
        data.update(extra)
    with open(path, 'w') as f:
        json.dump(data, f, indent=2)


def plot_chart(results: Sequence[DetectorResult], path: str, title: str = '') -> None:
    """Grouped bar chart of the accuracy columns, one bar per detector."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = summary_rows(results)
    cols = [c for c, _ in _columns(results)]
    fig, ax = plt.subplots(figsize=(1.4 * len(cols) + 3, 4))
    width = 0.8 / len(rows)
    for i, row in enumerate(rows):
        xs = np.arange(len(cols)) + i * width
        vals = [row[c] for c in cols]
        bars = ax.bar(xs, vals, width, label=f'{row["name"]} ({row["latency_ms"]:.0f} ms)')
        ax.bar_label(bars, fmt='%.3f', fontsize=7)
    ax.set_xticks(np.arange(len(cols)) + width * (len(rows) - 1) / 2, cols)
    ax.set_ylabel('score')
    top = max(max(row[c] for c in cols) for row in rows)
    ax.set_ylim(0, min(1., 1.15 * top + 0.01))  # room for the bar labels
    ax.set_title(title or 'Detector comparison')
    ax.legend(fontsize=8)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


_PALETTE = [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48),
            (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212)]


def draw_detections(image: np.ndarray, bboxes: np.ndarray, labels: Sequence[int],
                    scores: Sequence[float], class_names: Sequence[str],
                    score_thr: float = 0.3, title: str = ''):
    """Return a PIL image of ``image`` (HxWx3 RGB uint8) with boxes above
    ``score_thr`` drawn, labelled ``class score``."""
    from PIL import Image, ImageDraw
    img = Image.fromarray(image)
    draw = ImageDraw.Draw(img)
    for box, label, score in zip(bboxes, labels, scores):
        if score < score_thr:
            continue
        colour = _PALETTE[int(label) % len(_PALETTE)]
        x1, y1, x2, y2 = (float(v) for v in box)
        draw.rectangle((x1, y1, x2, y2), outline=colour, width=2)
        text = f'{class_names[int(label)]} {score:.2f}'
        draw.rectangle((x1, max(0, y1 - 11), x1 + 6 * len(text), y1), fill=colour)
        draw.text((x1 + 1, max(0, y1 - 11)), text, fill=(0, 0, 0))
    if title:
        draw.rectangle((0, 0, 7 * len(title) + 4, 12), fill=(0, 0, 0))
        draw.text((2, 0), title, fill=(255, 255, 255))
    return img
