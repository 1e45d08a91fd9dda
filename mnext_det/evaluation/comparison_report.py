"""The comparison of evaluated detectors as rows, Markdown and JSON; the first
detector is the baseline and every other one's difference from it is given."""
import json
import math
import os
import os.path as osp
from dataclasses import asdict
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .detector_eval import DetectorResult

__all__ = ['SUMMARY_KEYS', 'metric_columns', 'summary_rows', 'format_markdown', 'write_json']

# (column, metric key suffix) for COCO and VOC evaluators
_COCO_KEYS = (('AP', 'bbox_mAP'), ('AP50', 'bbox_mAP_50'), ('AP75', 'bbox_mAP_75'),
              ('APs', 'bbox_mAP_s'), ('APm', 'bbox_mAP_m'), ('APl', 'bbox_mAP_l'),
              ('AR100', 'bbox_AR@100'), ('ARs', 'bbox_AR_s@1000'), ('ARm', 'bbox_AR_m@1000'),
              ('ARl', 'bbox_AR_l@1000'))
SUMMARY_KEYS = ('params_M', 'madds_G', 'latency_ms')


def metric_columns(results: Sequence[DetectorResult]) -> List[Tuple[str, str]]:
    """``(column, metric key)`` of the accuracy columns: COCO's, or VOC's
    named with their ``eval_mode`` ("11points" or "area": VOC2007's and
    VOC2010's AP differ)."""
    if 'bbox_mAP' in results[0].metrics:
        return list(_COCO_KEYS)
    modes = {r.voc_eval_mode for r in results}
    if len(modes) > 1:
        raise ValueError(f'the detectors were evaluated with VOC eval modes '
                         f'{sorted(map(str, modes))}: their mAP cannot be compared')
    mode = modes.pop() or 'eval_mode unknown'
    return [(f'mAP (VOC {mode})', 'mAP'), (f'AP50 (VOC {mode})', 'AP50')]


def _score(value: float) -> float:
    """A metric as reported: mmdet's COCO -1 (an AP it cannot compute, e.g.
    APl of a split without large objects) is NaN, not a score."""
    return float('nan') if value < 0 else value


def _cell(value: float, diff: Optional[float] = None) -> str:
    if math.isnan(value):
        return 'n/a'
    return f'{value:.3f}' if diff is None else f'{value:.3f} ({diff:+.3f})'


def summary_rows(results: Sequence[DetectorResult]) -> List[Dict[str, float]]:
    """One row per detector: metrics (NaN where mmdet could not compute one,
    or it is missing), size and speed, and the difference of each from the
    first (baseline) detector as ``d_<column>``."""
    if not results:
        raise ValueError('no results to compare')
    cols = metric_columns(results)
    rows = []
    for res in results:
        row = dict(name=res.name, input=f'{res.input_size[0]}x{res.input_size[1]}')
        for col, key in cols:
            row[col] = _score(res.metrics.get(key, float('nan')))
        for key in SUMMARY_KEYS:
            row[key] = getattr(res, key)
        rows.append(row)
    base = rows[0]
    for row, res in zip(rows, results):
        for col, _ in cols:
            row[f'd_{col}'] = row[col] - base[col]
        # timed side by side: the median of the per-round ratios; else the medians' ratio
        row['latency_ratio'] = (res.latency_ratio[0] if res.latency_ratio
                                else row['latency_ms'] / base['latency_ms'])
    return rows


def _latency_cell(res: DetectorResult, ratio: Optional[float]) -> str:
    """``ms (p10-p90)`` of the baseline; ``ms (xR, p10-p90 of the ratio)`` of
    the others when timed side by side, ``ms (xR)`` when not."""
    cell = f'{res.latency_ms:.1f}'
    if ratio is None:
        return cell + (' ({:.1f}-{:.1f})'.format(*res.latency_p10_p90)
                       if res.latency_p10_p90 else '')
    if res.latency_ratio:
        return cell + ' (x{:.2f}, {:.2f}-{:.2f})'.format(*res.latency_ratio)
    return cell + f' (x{ratio:.2f})'


def format_markdown(results: Sequence[DetectorResult]) -> str:
    """Markdown tables: summary (with differences from the baseline, the
    first row) and per-class AP."""
    rows = summary_rows(results)
    cols = [c for c, _ in metric_columns(results)]
    head = ['model', 'input'] + cols + ['params (M)', 'MAdds (G)', 'CPU latency (ms)']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for i, row in enumerate(rows):
        cells = [row['name'], row['input']]
        for col in cols:
            cells.append(_cell(row[col], None if i == 0 else row[f'd_{col}']))
        cells += [f'{row["params_M"]:.2f}', f'{row["madds_G"]:.3f}',
                  _latency_cell(results[i], None if i == 0 else row['latency_ratio'])]
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines.append('')
    lines.append(f'Differences in brackets are from the baseline `{rows[0]["name"]}`; '
                 'latency: median batch-1 forward (no NMS), one CPU thread'
                 + ('; the detectors timed taking turns round by round, with the p10-p90 of '
                    'the rounds, and xR the median (p10-p90) of the per-round ratios to the '
                    'baseline.' if results[0].latency_ratio else '.'))
    classes = list(results[0].per_class)
    if any(math.isnan(row[c]) for row in rows for c in cols) or any(
            math.isnan(_score(v)) for r in results for v in r.per_class.values()):
        lines[-1] += ' n/a: a metric mmdet could not compute (no boxes of that size or class).'
    if classes:
        lines += ['', '| class | ' + ' | '.join(r.name for r in results) + ' |',
                  '|' + '---|' * (len(results) + 1)]
        for cls in classes:
            vals = [r.per_class.get(cls, float('nan')) for r in results]
            lines.append(f'| {cls} | ' + ' | '.join(_cell(_score(v)) for v in vals) + ' |')
    return '\n'.join(lines) + '\n'


def _json_safe(value: Any) -> Any:
    """``value`` with every NaN or infinite float as None (JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def write_json(results: Sequence[DetectorResult], path: str,
               extra: Optional[Dict] = None) -> None:
    """Results, summary rows and ``extra`` (e.g. timings) as JSON; a metric
    mmdet could not compute is ``null``."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    data = dict(results=[asdict(r) for r in results], summary=summary_rows(results))
    if extra:
        data.update(extra)
    with open(path, 'w') as f:
        json.dump(_json_safe(data), f, indent=2, allow_nan=False)
