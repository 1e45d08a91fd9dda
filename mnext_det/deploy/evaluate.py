"""Evaluate an exported detector on a config's test split with mmdet's
metric (CocoMetric, VOCMetric), as ``tools/test.py`` does for PyTorch.

The config's test dataloader gives the images after its pipeline (loaded,
resized, packed; uint8 BGR as mmdet loads them); the model's metadata gives
the normalisation and channel order of its input, so the exported graph sees
what the PyTorch detector saw after its data preprocessor. Detections go back
to original-image pixels with each image's ``scale_factor`` and into the
config's evaluator. Needs mmdet.
"""
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import torch

__all__ = ['ExportEvaluation', 'check_model_matches_config', 'evaluate_exported']


@dataclass
class ExportEvaluation:
    """Metrics and model-only latency of one exported detector."""
    metrics: Dict[str, float]
    num_images: int
    latency_ms: float


def check_model_matches_config(model_file: str, meta: Dict[str, Any], config: str,
                               classes: List[str], input_size: List[int]) -> None:
    """Refuse a model that is not a detector, or whose classes or input size
    differ from the config's (the message names both files and the field)."""
    from .onnx_export import require_detector
    require_detector(model_file, meta)
    if meta.get('classes') and list(meta['classes']) != list(classes):
        raise ValueError(f'{model_file}: metadata classes {meta["classes"]} differ from the '
                         f'classes of {config} ({list(classes)})')
    if list(meta['input_size']) != list(input_size):
        raise ValueError(f'{model_file}: metadata input_size {meta["input_size"]} differs from '
                         f'the (h, w) {list(input_size)} of {config}\'s test pipeline')


def evaluate_exported(config: str, model_file: str, cfg_options: Optional[Dict] = None,
                      num_threads: Optional[int] = None,
                      progress: bool = True) -> ExportEvaluation:
    """Run ``config``'s test dataloader through the exported ``model_file``,
    ONNX (raw or end-to-end graph, float or INT8) in ONNX Runtime or
    ``.tflite`` (raw graph, with its metadata file) in LiteRT, and score it
    with the config's test evaluator."""
    from mmengine.evaluator import Evaluator
    from mmengine.runner import Runner
    from mmengine.structures import InstanceData
    from mmengine.utils import ProgressBar

    from ..datasets.checks.preflight import check_detection_data
    from ..datasets.pipeline_info import input_size_of
    from .builder import load_scoped_config
    cfg = load_scoped_config(config, cfg_options)
    check_detection_data(cfg, splits=('test', ))  # e.g. an evaluator scoring another file
    from .onnxruntime_model import OnnxRuntimeModel, normalize_loaded
    if model_file.endswith('.tflite'):
        from .tflite import TFLiteModel
        model = TFLiteModel(model_file, num_threads=num_threads)
        model.require_metadata()
    else:
        model = OnnxRuntimeModel(model_file, num_threads=num_threads)
    meta = model.meta
    loader = Runner.build_dataloader(cfg.test_dataloader)
    width, height = input_size_of(cfg)
    check_model_matches_config(model_file, meta, config, loader.dataset.metainfo['classes'],
                               [height, width])
    evaluator = Evaluator(cfg.test_evaluator)
    evaluator.dataset_meta = loader.dataset.metainfo
    seconds, count = 0.0, 0
    bar = ProgressBar(len(loader.dataset)) if progress else None
    for batch in loader:
        x = normalize_loaded(torch.stack(batch['inputs']).numpy(), meta)
        samples = batch['data_samples']
        start = time.perf_counter()
        detections = model.detect_batch(x, [s.scale_factor for s in samples])
        seconds += time.perf_counter() - start
        for sample, det in zip(samples, detections):
            sample.pred_instances = InstanceData(
                bboxes=torch.from_numpy(det['bboxes']), scores=torch.from_numpy(det['scores']),
                labels=torch.from_numpy(det['labels']))
        evaluator.process(data_samples=samples, data_batch=batch)
        count += len(samples)
        if bar is not None:
            for _ in samples:
                bar.update()
    metrics = evaluator.evaluate(len(loader.dataset))
    return ExportEvaluation(metrics={k: float(v) for k, v in metrics.items()}, num_images=count,
                            latency_ms=1000 * seconds / max(count, 1))
