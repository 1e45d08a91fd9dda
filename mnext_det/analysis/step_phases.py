"""Wall time of each phase of a detector's training step, without a profiler.

The op-kind profile (:mod:`.op_profile`) charges self CPU time under
``torch.profiler``, which adds overhead per op and hides what happens outside
ops (Python, the loss's per-image loops). This times the phases themselves,
the steps of every config taking turns round by round: data preprocessor,
backbone + neck, head, loss, backward, optimizer step (``zero_grad``
included, with the config's own optimizer). Needs mmdet.
"""
import functools
import statistics
import time
from typing import Callable, Dict, List, Sequence

from .detector_benchmark import build_detector, synthetic_batch
from .timing import time_interleaved

__all__ = ['STEP_PHASES', 'time_step_phases', 'format_step_phases']

STEP_PHASES = ('data preprocessor', 'backbone + neck', 'head', 'loss', 'backward', 'optimizer')


def _phased_step(model, optim, data) -> Callable[[], List[float]]:
    def step() -> List[float]:
        marks = [time.perf_counter()]
        batch = model.data_preprocessor(data, True)
        marks.append(time.perf_counter())
        feats = model.extract_feat(batch['inputs'])
        marks.append(time.perf_counter())
        outs = model.bbox_head(feats)
        marks.append(time.perf_counter())
        samples = batch['data_samples']
        losses = model.bbox_head.loss_by_feat(*outs, [s.gt_instances for s in samples],
                                              [s.metainfo for s in samples])
        loss, _ = model.parse_losses(losses)
        marks.append(time.perf_counter())
        loss.backward()
        marks.append(time.perf_counter())
        optim.step()
        optim.zero_grad()
        marks.append(time.perf_counter())
        return [b - a for a, b in zip(marks, marks[1:])]
    return step


def _record(step: Callable[[], List[float]], out: List[List[float]]) -> None:
    out.append(step())


def time_step_phases(configs: Sequence[str], channels_last: bool = True, batch_size: int = 8,
                     iters: int = 10, warmup: int = 3) -> List[Dict[str, float]]:
    """Median milliseconds per phase (:data:`STEP_PHASES`, plus ``total``) of
    each config's SSD-style detector (``extract_feat`` + ``bbox_head``) on the
    same synthetic batch; the configs take turns every step
    (:func:`~.timing.time_interleaved`)."""
    phases: Dict[int, List[List[float]]] = {i: [] for i in range(len(configs))}
    calls = {}
    for i, config in enumerate(configs):
        model, optim, size = build_detector(config, channels_last)
        model.train()
        step = _phased_step(model, optim, synthetic_batch(model, size, batch_size))
        calls[i] = functools.partial(_record, step, phases[i])
    totals = time_interleaved(calls, iters, warmup)
    rows = []
    for i in calls:
        runs = phases[i][warmup:]
        row = {name: 1000 * statistics.median(r[j] for r in runs)
               for j, name in enumerate(STEP_PHASES)}
        row['total'] = 1000 * statistics.median(totals[i])
        rows.append(row)
    return rows


def format_step_phases(names: Sequence[str], rows: Sequence[Dict[str, float]],
                       threads: int) -> str:
    """A Markdown table of :func:`time_step_phases`, each later row's
    difference to the first beside it."""
    header = ['phase'] + [f'{n} ms' for n in names] + [f'{n} - {names[0]}' for n in names[1:]]
    lines = [f'Training step by phase, wall time, median of the steps, {threads} torch '
             'thread(s)', '', '| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for phase in STEP_PHASES + ('total', ):
        values = [row[phase] for row in rows]
        cells = [phase] + [f'{v:.1f}' for v in values] + [f'{v - values[0]:+.1f}'
                                                          for v in values[1:]]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)
