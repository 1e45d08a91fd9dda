"""Aggregate a study's results over seeds and write ``study.md``,
``study.json``, ``study.png`` and ``learning_curves.png``."""
import json
import math
import os.path as osp
import re
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

from ..engine.atomic_io import atomic_write_text
from .stats import paired_difference, summarize

__all__ = ['REPORTED_METRICS', 'choose_lrs', 'aggregate', 'write_report']

# The summary metrics, keyed as mmdet logs them (per-class APs stay in ``runs``).
REPORTED_METRICS = re.compile(r'^(coco/bbox_mAP(_50|_75|_s|_m|_l)?|pascal_voc/(mAP|AP\d+))$')


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def choose_lrs(results: Sequence[Dict], metric: str) -> Dict[str, Optional[float]]:
    """Per config label, the lr with the best mean ``metric`` over seeds on
    the *val* split (None where the config has no lr grid)."""
    by: Dict[str, Dict[Optional[float], List[float]]] = defaultdict(lambda: defaultdict(list))
    for r in results:
        by[r['label']][r['lr']].append(r['metrics']['val'][metric])
    return {label: max(lrs, key=lambda lr: _mean(lrs[lr])) for label, lrs in by.items()}


def aggregate(results: Sequence[Dict], labels: Sequence[str], metric: str) -> Dict:
    """The study's summary: chosen lr per config, the split reported (``test``
    when every run was evaluated there, else ``val``; an lr grid needs it), per config and metric
    ``{mean, std, ci95, n}``, and per non-baseline config the paired per-seed
    difference to the baseline (``labels[0]``). A metric mmdet could not
    compute (-1 in some run) is left out and listed in ``not_computed``."""
    lacking = [r for r in results if metric not in r['metrics']['val']]
    if lacking:
        have = ', '.join(sorted(lacking[0]['metrics']['val']))
        raise ValueError(f'metric {metric!r} is not among the val results of {len(lacking)} of '
                         f'{len(results)} runs (they have: {have}); rerun with another '
                         '--metric: finished runs are kept')
    chosen = choose_lrs(results, metric)
    with_test = all('test' in r['metrics'] for r in results)
    if len({r['lr'] for r in results}) > 1 and not with_test:
        raise ValueError('an lr grid chooses the lr on val, so the study must report a separate '
                         'test split: give --test-cfg-options')
    split = 'test' if with_test else 'val'
    picked = [r for r in results if r['lr'] == chosen[r['label']]]
    per: Dict[str, Dict[str, Dict[int, float]]] = defaultdict(lambda: defaultdict(dict))
    not_computed = set()
    for r in picked:
        for k, v in r['metrics'][split].items():
            if v < 0:  # mmdet's COCO -1: an AP it cannot compute (e.g. no large objects)
                not_computed.add(k)
            elif REPORTED_METRICS.match(k):
                per[r['label']][k][r['seed']] = v
    if metric in not_computed:
        raise ValueError(f'metric {metric!r} is -1 in the {split} results: mmdet could not '
                         'compute it (no boxes of that size in the split); rerun with another '
                         '--metric: finished runs are kept')
    for label in per:
        for k in not_computed:
            per[label].pop(k, None)
    summary = {label: {k: summarize(list(v.values())) for k, v in sorted(per[label].items())}
               for label in labels}
    base = labels[0]
    paired = {label: {k: paired_difference(per[label][k], per[base].get(k, {}))
                      for k in sorted(per[label])} for label in labels[1:]}
    return dict(metric=metric, split=split, baseline=base, chosen_lr=chosen,
                summary=summary, paired_differences=paired,
                not_computed=sorted(k for k in not_computed if REPORTED_METRICS.match(k)))


def _fmt(s: Optional[Dict], scale: float = 1.) -> str:
    if s is None:
        return '-'
    if s['std'] is None:
        return f'{s["mean"] * scale:.3f} (n=1)'
    lo, hi = s['ci95']
    return f'{s["mean"] * scale:.3f} ± {s["std"] * scale:.3f} [{lo * scale:.3f}, {hi * scale:.3f}]'


def _markdown(study: Dict, title: str, command: str) -> str:
    agg, metric = study, study['metric']
    labels = list(agg['summary'])
    cols = [k for k in ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/bbox_mAP_s', 'coco/bbox_mAP_m',
                        'coco/bbox_mAP_l', 'pascal_voc/mAP') if k in agg['summary'][labels[0]]]
    n_seeds = {lab: agg['summary'][lab][metric]['n'] for lab in labels}
    mode = study.get('voc_eval_mode')
    heads = [f'{c} (VOC {mode})' if mode and c.startswith('pascal_voc/') else c for c in cols]
    lines = [f'# {title}', '', f'Command: `{command}`', '',
             f'Split reported: **{agg["split"]}**; mean ± std over seeds [Student-t 95 % CI of '
             f'the mean]; baseline: `{agg["baseline"]}`.', '',
             '| config | lr | seeds | ' + ' | '.join(heads) + ' |',
             '|---|---|---|' + '---|' * len(cols)]
    for lab in labels:
        lr = agg['chosen_lr'].get(lab)
        lines.append(f'| {lab} | {"config" if lr is None else f"{lr:g}"} | {n_seeds[lab]} | ' +
                     ' | '.join(_fmt(agg['summary'][lab].get(c)) for c in cols) + ' |')
    lines += ['', f'Paired per-seed difference to `{agg["baseline"]}` ({metric}; wins = seeds '
              'where the config scored higher):', '',
              '| config | mean diff ± std | 95 % CI | wins | seeds |', '|---|---|---|---|---|']
    for lab, diffs in agg['paired_differences'].items():
        d = diffs.get(metric)
        if d is None:
            lines.append(f'| {lab} | - | - | - | no shared seeds |')
            continue
        std = '-' if d['std'] is None else f'{d["std"]:.3f}'
        ci = '-' if d['ci95'] is None else f'[{d["ci95"][0]:+.3f}, {d["ci95"][1]:+.3f}]'
        lines.append(f'| {lab} | {d["mean"]:+.3f} ± {std} | {ci} | {d["wins"]}/{d["n"]} | '
                     f'{d["seeds"]} |')
    if study.get('not_computed'):
        lines += ['', f'Not computed by mmdet on this split (-1 in its results, e.g. no boxes of '
                  f'that size), left out: {", ".join(study["not_computed"])}.']
    total = sum(r['wall_s'] for r in study['runs'])
    lines += ['', f'{len(study["runs"])} runs, {total / 60:.1f} min of training in all. '
              'Per-run metrics, seeds, lrs and config hashes: `study.json`.', '']
    return '\n'.join(lines)


def _plots(study: Dict, out_dir: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    agg, metric = study, study['metric']
    labels = list(agg['summary'])
    picked = [r for r in study['runs'] if r['lr'] == agg['chosen_lr'][r['label']]]
    fig, ax = plt.subplots(figsize=(max(4, 1.4 * len(labels)), 3.6))
    values = []
    for i, lab in enumerate(labels):
        pts = [r['metrics'][agg['split']][metric] for r in picked if r['label'] == lab]
        values += pts
        ax.scatter([i] * len(pts), pts, s=18, alpha=0.7, zorder=3)
        s = agg['summary'][lab][metric]
        if s['ci95'] is not None:
            ax.errorbar(i + 0.15, s['mean'], yerr=[[s['mean'] - s['ci95'][0]],
                        [s['ci95'][1] - s['mean']]], fmt='o', color='k', capsize=4)
            values += s['ci95']
    ax.set_xticks(range(len(labels)), labels, rotation=20, ha='right', fontsize=7)
    ax.set_ylabel(f'{agg["split"]} {metric}')
    _scale_to(ax, values)
    ax.grid(alpha=0.3)
    ax.set_title('per-seed points, mean with 95 % CI', fontsize=9)
    fig.tight_layout()
    fig.savefig(osp.join(out_dir, 'study.png'), dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    values = []
    for lab in labels:
        curves = [r['curve'] for r in picked if r['label'] == lab and r['curve']]
        epochs = sorted(set.intersection(*[{p['epoch'] for p in c} for c in curves])) \
            if curves else []
        if not epochs:
            continue
        ys = [[next(p[metric] for p in c if p['epoch'] == e) for c in curves] for e in epochs]
        ax.plot(epochs, [_mean(y) for y in ys], marker='o', label=f'{lab} (n={len(curves)})')
        ax.fill_between(epochs, [min(y) for y in ys], [max(y) for y in ys], alpha=0.2)
        values += [v for y in ys for v in y]
    ax.set_xlabel('epoch')
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(f'val {metric}')
    _scale_to(ax, values)
    ax.grid(alpha=0.3)
    if values:
        ax.legend(fontsize=7)
    ax.set_title('mean over seeds, band = min-max', fontsize=9)
    fig.tight_layout()
    fig.savefig(osp.join(out_dir, 'learning_curves.png'), dpi=110)
    plt.close(fig)


def _scale_to(ax, values: Sequence[float]) -> None:
    values = [v for v in values if math.isfinite(v)]
    if values:
        lo, hi = min(values), max(values)
        pad = max(0.05 * (hi - lo), 0.005)
        ax.set_ylim(max(0., lo - pad), hi + pad)


def _voc_eval_mode(config: str) -> Optional[str]:
    """The baseline config's VOCMetric ``eval_mode`` ('11points' or 'area':
    VOC2007's and VOC2010's AP differ), None without one or without the file."""
    if not osp.isfile(config):
        return None
    from ..config_file import read_config
    from ..evaluation.detector_eval import voc_eval_mode
    cfg = read_config(config)
    evaluator = cfg.get('val_evaluator') or {}
    return voc_eval_mode(evaluator if isinstance(evaluator, (list, tuple)) else [evaluator])


def write_report(out_dir: str, results: Sequence[Dict], labels: Sequence[str], metric: str,
                 command: str, title: str = 'Backbone study') -> Dict:
    """Aggregate ``results`` and write the report files into ``out_dir``;
    returns the ``study.json`` contents."""
    runs = [{k: r[k] for k in ('config', 'label', 'seed', 'lr', 'metrics', 'wall_s',
                               'config_hash', 'curve')} for r in results]
    study = dict(command=command, **aggregate(results, labels, metric), runs=runs,
                 voc_eval_mode=_voc_eval_mode(results[0]['config']))
    atomic_write_text(osp.join(out_dir, 'study.json'), json.dumps(study, indent=1))
    atomic_write_text(osp.join(out_dir, 'study.md'), _markdown(study, title, command))
    _plots(study, out_dir)
    return study
