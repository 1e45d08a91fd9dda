"""Detectors evaluated with mmengine's ``Runner.test`` and measured for
parameters, multiply-adds at their input size and CPU forward latency.

Several detectors are scored on the *same* split by passing the baseline's
config as ``dataset_from`` (its ``test_dataloader`` dataset and
``test_evaluator``; each detector keeps its own test pipeline);
:func:`evaluate_detectors` does so and then times their forwards side by
side, so that their latency ratio does not depend on when each was timed.
Needs mmdet (import it through tools or configs, not from ``mnext_det``).
"""
import copy
import os.path as osp
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Callable, ContextManager, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope
from mmengine.runner import Runner

from ..analysis.complexity import count_madds, count_params
from ..analysis.timing import Spread, latencies_side_by_side, measure_latency, paired_ratio
from ..checkpoint import check_checkpoint_fits, require_checkpoint_file
from ..config_file import read_config
from ..config_types import type_name
from ..datasets.pipeline_info import input_size_of

__all__ = ['DetectorResult', 'evaluate_detector', 'evaluate_detectors']

# CocoMetric items behind the report's COCO columns; AR by size is at up to
# 1000 detections per image, so at the head's max_per_img (100 in our configs)
_COCO_ITEMS = ['mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l', 'AR@100', 'AR_s@1000',
               'AR_m@1000', 'AR_l@1000']


@dataclass
class DetectorResult:
    """What :func:`evaluate_detector` measured for one detector; from
    :func:`evaluate_detectors` also the p10-p90 of its latency and its
    per-round latency ratio to the baseline (median, p10, p90)."""

    name: str
    config: str
    checkpoint: str
    metrics: Dict[str, float]
    per_class: Dict[str, float] = field(default_factory=dict)
    params_M: float = 0.
    madds_G: float = 0.
    latency_ms: float = 0.
    latency_p10_p90: Optional[Tuple[float, float]] = None
    latency_ratio: Optional[Tuple[float, float, float]] = None
    input_size: Tuple[int, int] = (0, 0)
    eval_seconds: float = 0.
    confusion: Optional[List[List[float]]] = None
    voc_eval_mode: Optional[str] = None


class _TensorForward(nn.Module):
    """Backbone + neck + head on a tensor (no post-processing)."""

    def __init__(self, detector: nn.Module) -> None:
        super().__init__()
        self.detector = detector

    def forward(self, x: torch.Tensor):
        return self.detector._forward(x)


def _metric_prefix(metrics: Dict[str, float]) -> str:
    for key in metrics:
        if key.endswith('bbox_mAP'):
            return key[:-len('bbox_mAP')]
        if key.endswith('/mAP'):
            return key[:-len('mAP')]
    raise KeyError(f'no bbox_mAP or mAP among the metrics {sorted(metrics)}')


def _add_coco_items(evaluators: List[Dict]) -> None:
    """Give every ``CocoMetric`` (plain, scoped or a class) without its own
    ``metric_items`` the items the reports show, and the per-class APs
    (``classwise``) unless it sets them off."""
    for evaluator in evaluators:
        if type_name(evaluator.get('type')) == 'CocoMetric':
            if evaluator.get('metric_items') is None:
                evaluator['metric_items'] = _COCO_ITEMS
            evaluator.setdefault('classwise', True)


def voc_eval_mode(evaluators: List[Dict]) -> Optional[str]:
    """The ``eval_mode`` of the first ``VOCMetric`` among ``evaluators``
    (mmdet's default, ``'11points'``, when unset); None without one."""
    for evaluator in evaluators:
        if type_name(evaluator.get('type')) == 'VOCMetric':
            return evaluator.get('eval_mode', '11points')
    return None


def _check_files(config: str, checkpoint: str) -> None:
    if not osp.isfile(config):
        raise FileNotFoundError(f'config file not found: {config}')
    require_checkpoint_file(checkpoint)


def _check_weights(config: str, checkpoint: str, cfg_options: Optional[Dict]) -> None:
    """Refuse a checkpoint that does not fit its config's model: the runner
    loads ``load_from`` non-strictly and only warns, so another detector's
    weights would be scored as if they were this one's."""
    cfg = read_config(config, cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    check_checkpoint_fits(MODELS.build(cfg.model), checkpoint)


def evaluate_detector(config: str, checkpoint: str, name: Optional[str] = None,
                      work_dir: str = 'work_dirs/compare',
                      dataset_from: Optional[Config] = None,
                      cfg_options: Optional[Dict] = None,
                      latency_runs: int = 20, confusion: bool = False,
                      log_level: str = 'INFO') -> DetectorResult:
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
        latency_runs: Timed forward passes for the latency (0: not timed).
        confusion: Also count mmdet's confusion matrix of the predictions
            (``confusion_matrix.py``'s thresholds).
        log_level: The evaluation runner's log level, console and log file
            (``'WARNING'`` leaves out the environment, the config and the
            per-class table that mmengine logs at ``'INFO'``; pycocotools
            prints its summary either way).
    """
    _check_files(config, checkpoint)
    _check_weights(config, checkpoint, cfg_options)
    result, net = _evaluate(config, checkpoint, name, work_dir, dataset_from, cfg_options,
                            confusion, log_level)
    if latency_runs:
        result.latency_ms = measure_latency(net, result.input_size, runs=latency_runs)
    return result


def evaluate_detectors(detectors: Sequence[Tuple[str, str, str]], work_dir: str,
                       cfg_options: Optional[Dict] = None, latency_rounds: int = 20,
                       confusion: bool = False, log_level: str = 'INFO',
                       context: Callable[[int, str], ContextManager] = lambda i, name:
                       nullcontext()) -> List[DetectorResult]:
    """Evaluate ``(name, config, checkpoint)`` detectors on the first one's
    test split and metric (each keeps its own test pipeline; the first is the
    baseline), then time their batch-1 forwards (no NMS, one thread) side by
    side: ``latency_rounds`` rounds in which the detectors' forwards take turns
    (:func:`~mnext_det.analysis.timing.latencies_side_by_side`), so that a
    drift of the machine's speed falls on all alike. Each result holds the
    median and p10-p90 of its rounds and the median and p10-p90 of its
    per-round ratio to the baseline's. ``context(i, name)`` wraps the
    evaluation of the ``i``-th detector (e.g. to send its output to a log);
    the other arguments are :func:`evaluate_detector`'s."""
    if not detectors:
        raise ValueError('no detectors to evaluate')
    if latency_rounds < 1:
        raise ValueError(f'latency_rounds must be at least 1, got {latency_rounds}')
    for _, config, checkpoint in detectors:  # every file before the first evaluation
        _check_files(config, checkpoint)
    for _, config, checkpoint in detectors:
        _check_weights(config, checkpoint, cfg_options)
    baseline = read_config(detectors[0][1], cfg_options)
    results, nets = [], []
    for i, (name, config, checkpoint) in enumerate(detectors):
        with context(i, name):
            result, net = _evaluate(config, checkpoint, name, work_dir, baseline, cfg_options,
                                    confusion, log_level)
        results.append(result)
        nets.append(net)
    rounds = latencies_side_by_side(nets, [r.input_size for r in results], latency_rounds)
    for result, ms in zip(results, rounds):
        spread, ratio = Spread.of(ms), paired_ratio(ms, rounds[0])
        result.latency_ms = spread.median
        result.latency_p10_p90 = (spread.p10, spread.p90)
        result.latency_ratio = (ratio.median, ratio.p10, ratio.p90)
    return results


def _evaluate(config: str, checkpoint: str, name: Optional[str], work_dir: str,
              dataset_from: Optional[Config], cfg_options: Optional[Dict], confusion: bool,
              log_level: str) -> Tuple[DetectorResult, nn.Module]:
    """:func:`evaluate_detector` without the latency, and the detector's
    tensor forward (no post-processing) to time; the files are checked by the
    caller."""
    name = name or osp.splitext(osp.basename(config))[0]
    cfg = read_config(config, cfg_options)
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
    cfg.log_level = log_level
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper', 'param_scheduler',
                'val_dataloader', 'val_cfg', 'val_evaluator'):
        cfg.pop(key, None)
    evaluators = [cfg.test_evaluator] if isinstance(cfg.test_evaluator, dict) else \
        list(cfg.test_evaluator)
    _add_coco_items(evaluators)
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
    net = _TensorForward(model)
    size = input_size_of(cfg)
    return DetectorResult(
        name=name, config=config, checkpoint=checkpoint, metrics=metrics,
        per_class=per_class,
        params_M=count_params(model) / 1e6,
        madds_G=count_madds(net, (1, 3, size[1], size[0])) / 1e9,
        input_size=size, eval_seconds=seconds, confusion=matrix,
        voc_eval_mode=voc_eval_mode(evaluators)), net
