"""A study's runs: every (config, lr, seed) with the same data, schedule and
budget, checked before anything trains."""
import argparse
import hashlib
import json
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.config import Config, DictAction

from ..config_file import read_config
from ..config_types import type_name
from .config_diff import unfair_differences
from .report import REPORTED_METRICS

__all__ = ['ConfigSpec', 'Run', 'parse_config_spec', 'parse_lr_grid', 'parse_cfg_options',
           'plan_study', 'study_metric', 'LR_KEY']

LR_KEY = 'optim_wrapper.optimizer.lr'
SEED_KEY = 'randomness.seed'
#: The mAP each mmdet evaluator reports: the study's default metric for it.
EVALUATOR_MAP = {'CocoMetric': 'coco/bbox_mAP', 'VOCMetric': 'pascal_voc/mAP'}


@dataclass(frozen=True)
class ConfigSpec:
    """A config of the study: its short ``label`` and file ``path``."""
    label: str
    path: str


@dataclass(frozen=True)
class Run:
    """One training of the study.

    ``options`` are the ``--cfg-options`` of this run (the shared ones, then
    its seed and lr); ``config_hash`` hashes the merged config without the
    seed, so runs of one config and lr share it.
    """
    index: int
    label: str
    config: str
    seed: int
    lr: Optional[float]
    work_dir: str
    options: Tuple[str, ...]
    config_hash: str
    max_epochs: int

    @property
    def name(self) -> str:
        lr = '' if self.lr is None else f' lr={self.lr:g}'
        return f'{self.label}{lr} seed={self.seed}'


def parse_config_spec(spec: str) -> ConfigSpec:
    """``LABEL=PATH`` or ``PATH`` (label: the file name without ``.py``)."""
    label, sep, path = spec.partition('=')
    if not sep:
        label, path = osp.splitext(osp.basename(spec))[0], spec
    if not label or not path:
        raise ValueError(f'config {spec!r}: expected PATH or LABEL=PATH')
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file not found: {path}')
    return ConfigSpec(label, path)


def parse_lr_grid(specs: Sequence[str], labels: Sequence[str]) -> Dict[str, List[float]]:
    """``[LABEL=]LR,LR,...`` entries -> ``{label: [lr, ...]}``; an entry with no
    label applies to every config. Labelled entries override it."""
    grid: Dict[str, List[float]] = {}
    for spec in specs:
        label, sep, values = spec.rpartition('=') if '=' in spec else ('', '', spec)
        try:
            lrs = [float(v) for v in values.split(',') if v]
        except ValueError:
            raise ValueError(f'--lr-grid {spec!r}: learning rates must be numbers') from None
        if not lrs or any(lr <= 0 for lr in lrs) or len(set(lrs)) != len(lrs):
            raise ValueError(f'--lr-grid {spec!r}: give distinct learning rates > 0')
        if label and label not in labels:
            raise ValueError(f'--lr-grid {spec!r}: no config labelled {label!r} '
                             f'(labels: {", ".join(labels)})')
        for target in ([label] if label else labels):
            if label or target not in grid:
                grid[target] = lrs
    return grid


def parse_cfg_options(options: Sequence[str]) -> Dict:
    """mmengine's ``--cfg-options`` parsing of ``KEY=VALUE`` strings."""
    for opt in options:
        if '=' not in opt:
            raise ValueError(f'--cfg-options {opt!r}: expected KEY=VALUE')
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument('--o', nargs='+', action=DictAction, default={})
    return parser.parse_args(['--o', *options]).o if options else {}


def _merged(spec: ConfigSpec, options: Sequence[str]) -> Config:
    return read_config(spec.path, parse_cfg_options(options))


def _hash(cfg: Config) -> str:
    """Hash of what the run computes: the merged config without its work
    dir, seed and ``custom_imports`` (which only names modules to import)."""
    tree = cfg.to_dict()
    for key in ('work_dir', 'custom_imports'):
        tree.pop(key, None)
    tree.get('randomness', {}).pop('seed', None)
    text = json.dumps(tree, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def plan_study(specs: Sequence[ConfigSpec], seeds: Sequence[int], work_dir: str,
               lr_grid: Optional[Dict[str, List[float]]] = None,
               cfg_options: Sequence[str] = (),
               allow_config_diff: bool = False) -> List[Run]:
    """Every (config, lr, seed) run, seed-major so that a partial study holds
    whole seeds. The first config is the baseline.

    Raises ``ValueError`` for fewer than two configs, duplicate labels or
    seeds, and for a config that differs from the baseline beyond the
    backbone, its taps and their channel counts (unless
    ``allow_config_diff``), naming the config and the keys.
    """
    if len(specs) < 2:
        raise ValueError('a study needs two or more configs (the first is the baseline)')
    labels = [s.label for s in specs]
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        raise ValueError(f'duplicate config labels {dup}: name them with LABEL=PATH')
    if not seeds:
        raise ValueError('--seeds: give at least one seed')
    dup_seeds = sorted({s for s in seeds if list(seeds).count(s) > 1})
    if dup_seeds:
        raise ValueError(f'--seeds has duplicates {dup_seeds}: each seed must run once')
    lr_grid = lr_grid or {}
    merged = {s.label: _merged(s, cfg_options) for s in specs}
    base = specs[0]
    for spec in specs[1:]:
        keys = unfair_differences(merged[base.label].to_dict(), merged[spec.label].to_dict())
        if keys and not allow_config_diff:
            raise ValueError(
                f'{spec.path} differs from the baseline {base.path} outside the backbone and '
                f'its channels, in: {", ".join(sorted(keys))}. A backbone comparison needs the '
                'same data, schedule, neck and head; pass --allow-config-diff to run it anyway.')
    # per (config, lr): its lr option, sub-folder and merged config, built once
    variants = []
    for spec in specs:
        for lr in lr_grid.get(spec.label, [None]):
            if lr is None:
                variants.append((spec, lr, (), spec.label, merged[spec.label]))
            else:
                lr_option = (f'{LR_KEY}={lr!r}', )
                variants.append((spec, lr, lr_option, osp.join(spec.label, f'lr{lr:g}'),
                                 _merged(spec, [*cfg_options, *lr_option])))
    runs: List[Run] = []
    for seed in seeds:
        for spec, lr, lr_option, sub, cfg in variants:
            runs.append(Run(index=len(runs), label=spec.label, config=spec.path, seed=seed,
                            lr=lr, work_dir=osp.join(work_dir, sub, f'seed{seed}'),
                            options=(*cfg_options, f'{SEED_KEY}={seed}', *lr_option),
                            config_hash=_hash(cfg), max_epochs=int(cfg.train_cfg.max_epochs)))
    return runs


def study_metric(spec: ConfigSpec, cfg_options: Sequence[str] = (),
                 metric: Optional[str] = None) -> str:
    """The val metric that picks the lr and leads the report: ``metric``, or
    the mAP of the baseline's ``val_evaluator`` when it is None.

    Raises ``ValueError``, before anything trains, for a metric the report
    does not show or one the baseline's evaluator does not compute (e.g.
    ``coco/bbox_mAP`` with ``VOCMetric``), naming the evaluator.
    """
    evaluator = _merged(spec, cfg_options).get('val_evaluator')
    kind = type_name(evaluator.get('type')) if isinstance(evaluator, dict) else None
    own = EVALUATOR_MAP.get(kind)
    if metric is None:
        if own is None:
            raise ValueError(f'{spec.path}: no default study metric for val_evaluator {kind!r}; '
                             'give --metric')
        return own
    if not REPORTED_METRICS.match(metric):
        raise ValueError(f'--metric {metric!r} is not one the study reports (coco/bbox_mAP, '
                         'coco/bbox_mAP_50/_75/_s/_m/_l, pascal_voc/mAP, pascal_voc/AP50, ...)')
    if own is not None and metric.split('/')[0] != own.split('/')[0]:
        raise ValueError(f'--metric {metric!r}: {spec.path} evaluates with {kind}, which reports '
                         f'{own.split("/")[0]}/... metrics (e.g. {own})')
    return metric
