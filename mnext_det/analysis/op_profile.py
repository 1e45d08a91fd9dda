"""Where a detector's CPU time goes, by kind of op.

:func:`profile_train_step` cuts one training step into its phases
(``forward`` with the loss, ``backward``, ``optimizer``) with
``torch.profiler.record_function`` and charges every op's self CPU time to its
phase and to a kind: convolutions by their weight's shape (depthwise k x k,
pointwise 1 x 1, dense), batch norm, activations, elementwise, and the rest.
:func:`activation_traffic` counts the activation elements each kind reads and
writes in one forward pass: what memory-bound ops cost on a CPU, which
multiply-adds do not show. Needs mmdet for the detectors.
"""
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import torch
from torch.profiler import ProfilerActivity, profile, record_function
from torch.utils._python_dispatch import TorchDispatchMode

from .detector_benchmark import build_detector, synthetic_batch

__all__ = ['PHASES', 'op_kind', 'profile_train_step', 'activation_traffic', 'detector_traffic',
           'format_profiles', 'format_traffic']

PHASES = ('forward', 'backward', 'optimizer')
_CONV_WEIGHT_INDEX = {'aten::convolution': 1, 'aten::convolution_backward': 2}
_KINDS = (('batch_norm', 'batch norm'), ('hardtanh', 'activation'), ('relu', 'activation'),
          ('clamp', 'activation'), ('threshold', 'activation'), ('add', 'elementwise'),
          ('mul', 'elementwise'), ('copy_', 'copy / layout'), ('contiguous', 'copy / layout'),
          ('clone', 'copy / layout'))


def _conv_kind(weight: Sequence[int]) -> str:
    if len(weight) != 4:
        return 'conv (other)'
    if weight[1] == 1 and weight[2] > 1:
        return f'depthwise conv {weight[2]}x{weight[3]}'
    if weight[2] == weight[3] == 1:
        return 'pointwise conv 1x1'
    return f'dense conv {weight[2]}x{weight[3]}'


def op_kind(name: str, conv_weight: Optional[Sequence[int]]) -> str:
    """The kind an op is charged to: ``conv_weight`` is the weight shape of the
    convolution it belongs to (None outside convolutions)."""
    if conv_weight is not None:
        return _conv_kind(conv_weight)
    for key, kind in _KINDS:
        if key in name:
            return kind
    return 'other'


def _charge(events) -> Dict[str, Dict[str, float]]:
    """Self CPU microseconds by phase and kind of the profiled ``events``."""
    totals: Dict[str, Dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for event in events:
        if event.name in PHASES:
            continue
        phase, conv_weight, parent = None, None, event
        while parent is not None:
            if parent.name in PHASES:
                phase = parent.name
                break
            if conv_weight is None and parent.name in _CONV_WEIGHT_INDEX:
                shapes = parent.input_shapes or []
                index = _CONV_WEIGHT_INDEX[parent.name]
                conv_weight = shapes[index] if len(shapes) > index else []
            parent = parent.cpu_parent
        if phase is not None:
            totals[phase][op_kind(event.name, conv_weight)] += event.self_cpu_time_total
    return totals


def profile_train_step(config: str, channels_last: bool = False, batch_size: int = 8,
                       iters: int = 3, warmup: int = 2) -> Dict[str, Dict[str, float]]:
    """Milliseconds per training step of ``config``'s detector on a synthetic
    batch, by phase and kind of op (:data:`PHASES`, :func:`op_kind`)."""
    model, optim, size = build_detector(config, channels_last)
    data = synthetic_batch(model, size, batch_size)
    model.train()

    def step() -> None:
        with record_function('forward'):
            batch = model.data_preprocessor(data, True)
            losses = model._run_forward(batch, mode='loss')
            loss, _ = model.parse_losses(losses)
        with record_function('backward'):
            loss.backward()
        with record_function('optimizer'):
            optim.step()
            optim.zero_grad()

    for _ in range(warmup):
        step()
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for _ in range(iters):
            step()
    totals = _charge(prof.events())
    return {phase: {kind: us / 1000 / iters for kind, us in kinds.items()}
            for phase, kinds in totals.items()}


class _TrafficMode(TorchDispatchMode):
    """Adds up, per op kind, the elements of the 4-D tensors each aten op reads
    and writes (activations; weights only tell convolutions apart). Views
    move no data and are not counted."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: Dict[str, int] = defaultdict(int)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func.is_view:
            return out
        name = f'aten::{func.__name__.split(".")[0]}'
        conv_weight = list(args[1].shape) if 'convolution' in name else None
        inputs = args[:1] if conv_weight is not None else args
        tensors = [t for t in inputs if isinstance(t, torch.Tensor) and t.dim() == 4]
        outs = out if isinstance(out, (tuple, list)) else (out, )
        tensors += [t for t in outs if isinstance(t, torch.Tensor) and t.dim() == 4][:1]
        if tensors:
            self.elements[op_kind(name, conv_weight)] += sum(t.numel() for t in tensors)
        return out


def activation_traffic(module: torch.nn.Module, x: torch.Tensor) -> Dict[str, float]:
    """MB (float32) of activations each kind of op reads and writes in one
    eval forward of ``module`` on ``x``, per image."""
    module.eval()
    mode = _TrafficMode()
    with torch.no_grad(), mode:
        module(x)
    return {kind: n * 4 / 1e6 / x.shape[0] for kind, n in mode.elements.items()}


def detector_traffic(config: str, fold_bn: bool = False) -> Dict[str, float]:
    """:func:`activation_traffic` of ``config``'s detector (raw forward, no
    NMS) on one image of its test input size; ``fold_bn`` folds every BN into
    its conv first, as the exported models are."""
    model, _, (w, h) = build_detector(config)
    if fold_bn:
        from ..deploy.fuse import fuse_conv_bn
        model = fuse_conv_bn(model.eval())
    return activation_traffic(model, torch.zeros(1, 3, h, w))


def format_traffic(names: Sequence[str], traffic: Sequence[Dict[str, float]],
                   title: str) -> str:
    """A Markdown table of :func:`activation_traffic` results side by side,
    each later one as a ratio to the first."""
    kinds = sorted({k for t in traffic for k in t}, key=lambda k: -traffic[0].get(k, 0.))
    header = ['op kind'] + [f'{n} MB' for n in names]
    lines = [title, '', '| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for kind in kinds + ['total']:
        values = [sum(t.values()) if kind == 'total' else t.get(kind, 0.) for t in traffic]
        cells = [kind, f'{values[0]:.1f}'] + [
            f'{v:.1f} (x{v / values[0]:.2f})' if values[0] else f'{v:.1f}' for v in values[1:]]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def format_profiles(names: Sequence[str], profiles: Sequence[Dict[str, Dict[str, float]]],
                    threads: int) -> str:
    """A Markdown table: ms per step of each (phase, kind) for every profile,
    with each later profile's difference to the first and its share of the
    total difference."""
    keys = sorted({(p, k) for prof in profiles for p, kinds in prof.items() for k in kinds},
                  key=lambda pk: (PHASES.index(pk[0]), -profiles[0].get(pk[0], {}).get(pk[1], 0)))

    def value(prof: Dict[str, Dict[str, float]], key) -> float:
        return prof.get(key[0], {}).get(key[1], 0.)

    totals = [sum(value(prof, key) for key in keys) for prof in profiles]
    header = ['phase', 'op kind'] + [f'{n} ms' for n in names]
    header += [f'{n} - {names[0]} ms (share)' for n in names[1:]]
    lines: List[str] = [f'CPU training step, {threads} torch thread(s), self CPU time per op', '',
                        '| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for key in keys + [('all', 'total')]:
        values = totals if key == ('all', 'total') else [value(p, key) for p in profiles]
        cells = [key[0], key[1]] + [f'{v:.1f}' for v in values]
        for v, total in zip(values[1:], totals[1:]):
            gap = total - totals[0]
            share = (v - values[0]) / gap if gap else 0.
            cells.append(f'{v - values[0]:+.1f} ({share:+.0%})')
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)
