"""Deployment report: each detector in PyTorch, ONNX float (raw graph +
numpy NMS), ONNX float end-to-end (NMS in the graph) and ONNX INT8 (the
end-to-end graph quantized), scored on the same split and timed side by side
in one interleaved run. Needs mmdet and onnxruntime.
"""
import functools
import json
import os
import os.path as osp
from dataclasses import asdict, dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from ..engine.cpus import usable_cpus
from .onnx_export import read_metadata

__all__ = ['DeployRow', 'export_raw_detector', 'build_deploy_report', 'format_deploy_markdown',
           'plot_deploy_chart', 'write_deploy_json']

FORMATS = ('pytorch', 'onnx-raw', 'onnx-e2e', 'onnx-int8')


@dataclass
class DeployRow:
    """One model in one format."""
    model: str
    format: str
    file: str
    AP: float
    AP50: float
    size_MB: float
    latency_ms: Dict[str, float] = field(default_factory=dict)  # threads -> median ms
    AP_drop: float = 0.
    latency_ratio: Dict[str, float] = field(default_factory=dict)  # vs the first model


def export_raw_detector(config: str, checkpoint: str, file: str) -> None:
    """The raw float graph, as ``tools/deploy/export.py CONFIG --checkpoint``."""
    from .builder import build_model, prepare_export
    from .onnx_export import export_onnx
    module, cfg = build_model(config, checkpoint)
    graph, names, meta = prepare_export(module, cfg, 'detector', name=config)
    export_onnx(graph, file, (1, 3, *meta['input_size']), output_names=names, metadata=meta)


def _export_all(name: str, config: str, checkpoint: str, out_dir: str,
                num_calib: int, cfg_options: Optional[Dict]) -> Dict[str, str]:
    from .onnx_nms import add_nms_to_file
    from .quantize import quantize_detector
    files = {fmt: osp.join(out_dir, f'{name}_{fmt}.onnx') for fmt in FORMATS[1:]}
    export_raw_detector(config, checkpoint, files['onnx-raw'])
    add_nms_to_file(files['onnx-raw'], files['onnx-e2e'])
    quantize_detector(files['onnx-e2e'], config, files['onnx-int8'], num_calib,
                      cfg_options=cfg_options)
    return files


def _torch_predictor(config: str, checkpoint: str,
                     cfg_options: Optional[Dict]) -> Tuple[Callable, str]:
    """Batch-1 ``predict`` (NMS included) and the first test image's path."""
    from mmdet.structures import DetDataSample
    from mmengine.registry import DATASETS

    from ..datasets.pipeline_info import input_size_of
    from .builder import build_model, load_scoped_config
    model, _ = build_model(config, checkpoint)
    cfg = load_scoped_config(config, cfg_options)
    model.eval()
    width, height = input_size_of(cfg)
    sample = DetDataSample(metainfo=dict(img_shape=(height, width), ori_shape=(height, width),
                                         scale_factor=(1., 1.)))
    image = DATASETS.build(cfg.test_dataloader.dataset).get_data_info(0)['img_path']

    def predict(x: np.ndarray) -> None:
        with torch.no_grad():
            model(torch.from_numpy(x), [sample], mode='predict')
    return predict, image


def _onnx_runner(file: str) -> Callable[[int], Callable]:
    from .onnxruntime_model import OnnxRuntimeModel

    def make(threads: int) -> Callable:
        model = OnnxRuntimeModel(file, num_threads=threads)
        return lambda x: model.detect_batch(x, [(1., 1.)])
    return make


def _time_interleaved(runners: Dict[Tuple[str, str], Callable], inputs: Dict[str, np.ndarray],
                      threads: Sequence[int], rounds: int, runs: int) -> Dict:
    """Median ms per call of every runner (on its model's input) at each
    thread count; runners take turns within each round, so drifts of the
    machine hit all alike."""
    from ..analysis.timing import time_interleaved
    times: Dict = {key: {} for key in runners}
    old = torch.get_num_threads()
    try:
        for t in threads:
            torch.set_num_threads(t)
            calls = {key: functools.partial(make(t), inputs[key[0]])
                     for key, make in runners.items()}
            for key, seconds in time_interleaved(calls, rounds, warmup=1, repeat=runs).items():
                times[key][t] = [s * 1000 for s in seconds]
    finally:
        torch.set_num_threads(old)
    return {key: {str(t): float(np.median(v)) for t, v in per.items()}
            for key, per in times.items()}


def build_deploy_report(models: Sequence[Tuple[str, str, str]], out_dir: str,
                        num_calib: int = 200, threads: Sequence[int] = (1, 0),
                        rounds: int = 5, runs: int = 20,
                        cfg_options: Optional[Dict] = None) -> List[DeployRow]:
    """Rows for ``models`` = ``[(name, config, checkpoint), ...]`` (the first
    is the latency baseline), every file written into ``out_dir``. Latency:
    batch 1 on the first test image, detections included (mmdet ``predict``,
    numpy NMS for the raw graph), median over ``rounds`` of ``runs`` calls;
    ``threads`` 0 means all cores."""
    from ..evaluation.detector_eval import evaluate_detector
    from .evaluate import evaluate_exported
    from .onnxruntime_model import preprocess, read_image
    os.makedirs(out_dir, exist_ok=True)
    threads = [t or usable_cpus() for t in threads]
    rows, runners, inputs = [], {}, {}
    for name, config, checkpoint in models:
        files = _export_all(name, config, checkpoint, out_dir, num_calib, cfg_options)
        torch_result = evaluate_detector(config, checkpoint, name=name,
                                         work_dir=osp.join(out_dir, 'pytorch'),
                                         cfg_options=cfg_options, latency_runs=0)
        rows.append(DeployRow(name, 'pytorch', checkpoint, torch_result.metrics['bbox_mAP'],
                              torch_result.metrics['bbox_mAP_50'],
                              osp.getsize(checkpoint) / 2**20))
        predict, image = _torch_predictor(config, checkpoint, cfg_options)
        runners[(name, 'pytorch')] = lambda t, p=predict: p
        inputs[name] = preprocess(read_image(image), read_metadata(files['onnx-raw'])[0])[0]
        for fmt, file in files.items():
            result = evaluate_exported(config, file, cfg_options, num_threads=1,
                                       progress=False)
            rows.append(DeployRow(name, fmt, file, result.metrics['coco/bbox_mAP'],
                                  result.metrics['coco/bbox_mAP_50'], osp.getsize(file) / 2**20))
            runners[(name, fmt)] = _onnx_runner(file)
    latency = _time_interleaved(runners, inputs, threads, rounds, runs)
    float_ap = {r.model: r.AP for r in rows if r.format == 'pytorch'}
    base = models[0][0]
    for row in rows:
        row.latency_ms = latency[(row.model, row.format)]
        row.AP_drop = float_ap[row.model] - row.AP
        row.latency_ratio = {t: ms / latency[(base, row.format)][t]
                             for t, ms in row.latency_ms.items()}
    return rows


def format_deploy_markdown(rows: Sequence[DeployRow]) -> str:
    """The report table (one row per model and format) and, per INT8 model,
    what its quantization kept in float."""
    threads = list(rows[0].latency_ms)
    head = ['model', 'format', 'COCO AP', 'AP50', 'AP drop vs PyTorch'] + \
        [f'latency {t} thr (ms)' for t in threads] + \
        [f'x {rows[0].model} ({t} thr)' for t in threads] + ['size (MB)']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for r in rows:
        cells = [r.model, r.format, f'{r.AP:.3f}', f'{r.AP50:.3f}', f'{r.AP_drop:+.3f}']
        cells += [f'{r.latency_ms[t]:.2f}' for t in threads]
        cells += [f'{r.latency_ratio[t]:.2f}' for t in threads]
        cells.append(f'{r.size_MB:.1f}')
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines.append('')
    for r in (r for r in rows if r.format == 'onnx-int8'):
        q = read_metadata(r.file)[0]['quantization']
        chosen = ', and ' + ', '.join(q['float_nodes']) if q['float_nodes'] else ''
        lines.append(f'- {r.model} INT8: {q["quantized"]} nodes int8 '
                     f'({", ".join(q["op_types"])}); float: {q["float_by_design"]} nodes of '
                     f'box decoding, softmax and NMS{chosen}; calibrated on {q["num_calib"]} '
                     f'train images of {q.get("calibration", "the train split")}')
    return '\n'.join(lines) + '\n'


def plot_deploy_chart(rows: Sequence[DeployRow], path: str) -> None:
    """AP against 1-thread latency, one point per model and format."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    threads = list(rows[0].latency_ms)[0]
    fig, ax = plt.subplots(figsize=(6, 4))
    markers = dict(zip(FORMATS, 'osD^'))
    for model in dict.fromkeys(r.model for r in rows):
        mine = [r for r in rows if r.model == model]
        line, = ax.plot([r.latency_ms[threads] for r in mine], [r.AP for r in mine], ':',
                        alpha=0.5)
        for r in mine:
            ax.scatter(r.latency_ms[threads], r.AP, marker=markers[r.format],
                       color=line.get_color(), label=f'{model} {r.format}')
    ax.set_xlabel(f'latency per image, {threads} thread (ms, detections included)')
    ax.set_ylabel('COCO AP')
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_deploy_json(rows: Sequence[DeployRow], path: str,
                      extra: Optional[Dict] = None) -> None:
    """Rows (and ``extra``: command, machine) as JSON."""
    with open(path, 'w') as f:
        json.dump(dict(rows=[asdict(r) for r in rows], **(extra or {})), f, indent=2)
